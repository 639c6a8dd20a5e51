/* registry_schema.c - schema step 2: the official areas and their history.
 *
 * An area is keyed by its official 12-digit code. Each import of an official
 * list (an "edition", by year) moves last_edition forward for the codes it
 * holds, adds new ones, renames changed ones and marks vanished ones
 * retired; nothing is deleted. Every such change is an area_events row. */
const char registry_schema_sql[] =
    "CREATE TABLE areas ("
    "  code TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  level INTEGER NOT NULL," /* 0 district, 1 street/township, 2 community/village */
    "  kind TEXT NOT NULL,"     /* district, street, township, community, village */
    "  parent_code TEXT REFERENCES areas(code),"
    "  first_edition INTEGER NOT NULL,"
    "  last_edition INTEGER NOT NULL,"
    "  retired_edition INTEGER," /* NULL while the area exists */
    "  households INTEGER,"      /* NULL = not known */
    "  residents INTEGER,"
    "  elderly INTEGER,"
    "  lat DOUBLE PRECISION," /* WGS-84 */
    "  lon DOUBLE PRECISION,"
    "  point_crs TEXT," /* the system the point came in: gcj02 or wgs84 */
    "  point_source TEXT,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX areas_parent ON areas(parent_code, code);"
    "CREATE INDEX areas_level ON areas(level, code);"
    "CREATE TABLE area_events ("
    "  id INTEGER PRIMARY KEY,"
    "  code TEXT NOT NULL,"
    "  edition INTEGER,"
    "  event TEXT NOT NULL," /* added, renamed, moved, retired, restored, split, counts */
    "  old_value TEXT,"
    "  new_value TEXT,"
    "  related_code TEXT," /* split: the other side of the split */
    "  at BIGINT NOT NULL"
    ");"
    "CREATE INDEX area_events_code ON area_events(code, id);";

/* stations_schema.c - schema step 3: the social-work service network
 * (district guidance centre, street centres, community stations) and the
 * professional support teams assigned to communities.
 *
 * A station is known by (area_code, level, name): creating a second one with
 * the same three is a conflict, and a CSV import updates the station it
 * names instead of adding a copy. */
const char stations_schema_sql[] =
    "CREATE TABLE stations ("
    "  id INTEGER PRIMARY KEY,"
    "  area_code TEXT NOT NULL REFERENCES areas(code)," /* the area it serves */
    "  level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 2),"
    /* 0 district centre, 1 street centre, 2 community station */
    "  name TEXT NOT NULL,"
    "  address TEXT NOT NULL DEFAULT '',"
    "  lat DOUBLE PRECISION," /* WGS-84; both NULL or both set */
    "  lon DOUBLE PRECISION,"
    "  staff INTEGER NOT NULL DEFAULT 0 CHECK (staff >= 0),"
    "  phone TEXT," /* digits only, as phone_check normalises it */
    "  opening_hours TEXT NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  CHECK ((lat IS NULL) = (lon IS NULL))"
    ");"
    "CREATE UNIQUE INDEX stations_key ON stations(area_code, level, name);"
    "CREATE INDEX stations_level ON stations(level, area_code);"
    "CREATE TABLE support_teams ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL"
    "    CHECK (kind IN ('planner', 'lawyer', 'property', 'counsellor', 'social_org')),"
    "  organisation TEXT NOT NULL DEFAULT '',"
    "  contact_phone TEXT,"
    "  members INTEGER NOT NULL DEFAULT 0 CHECK (members >= 0),"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE TABLE support_assignments ("
    "  team_id BIGINT NOT NULL REFERENCES support_teams(id),"
    "  area_code TEXT NOT NULL REFERENCES areas(code)," /* a community */
    "  since BIGINT NOT NULL,"
    "  PRIMARY KEY (team_id, area_code)"
    ");"
    "CREATE INDEX support_assignments_area ON support_assignments(area_code);";

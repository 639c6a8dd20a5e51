/* stations_schema.c - schema step 3: the social-work service network
 * (district guidance centre, street centres, community stations) and the
 * professional support teams assigned to communities. */
const char stations_schema_sql[] =
    "CREATE TABLE stations ("
    "  id INTEGER PRIMARY KEY,"
    "  area_code TEXT NOT NULL REFERENCES areas(code)," /* the area it serves */
    "  level INTEGER NOT NULL,"   /* 0 district centre, 1 street centre, 2 community station */
    "  name TEXT NOT NULL,"
    "  address TEXT NOT NULL DEFAULT '',"
    "  lat DOUBLE PRECISION,"     /* WGS-84 */
    "  lon DOUBLE PRECISION,"
    "  staff INTEGER NOT NULL DEFAULT 0,"
    "  phone TEXT,"
    "  opening_hours TEXT NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX stations_area ON stations(area_code);"
    "CREATE TABLE support_teams ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"       /* planner, lawyer, property, counsellor, social_org */
    "  organisation TEXT NOT NULL DEFAULT '',"
    "  contact_phone TEXT,"
    "  members INTEGER NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE TABLE support_assignments ("
    "  team_id BIGINT NOT NULL REFERENCES support_teams(id),"
    "  area_code TEXT NOT NULL REFERENCES areas(code),"
    "  since BIGINT NOT NULL,"
    "  PRIMARY KEY (team_id, area_code)"
    ");"
    "CREATE INDEX support_assignments_area ON support_assignments(area_code);";

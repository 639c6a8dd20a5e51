/* directory_schema.c - schema step 5: the service catalogue and the
 * facilities of the elderly-service directory.
 *
 * A facility's opening hours (the text form of hours_format_week), holiday
 * closures and services (JSON in the API's shape) are kept in columns of
 * their own row: they are always read and written with it. The services are
 * repeated in facility_services, one row per offer, so that lists and counts
 * by service are plain indexed queries.
 *
 * directory_rev counts the directory's writes; each facility row carries the
 * count of the write that last changed it, so a process's memory copy
 * reloads only what changed since it last looked. */
const char directory_schema_sql[] =
    "CREATE TABLE services ("
    "  code TEXT PRIMARY KEY,"
    "  name_zh TEXT NOT NULL,"
    "  name_en TEXT NOT NULL,"
    "  unit TEXT NOT NULL,"
    "  position INTEGER NOT NULL," /* order in the catalogue */
    "  created_at BIGINT NOT NULL"
    ");"
    "INSERT INTO services (code, name_zh, name_en, unit, position, created_at) VALUES"
    "  ('meals', '助餐', 'Meals', 'meal', 1, 0),"
    "  ('meal_delivery', '送餐', 'Meal delivery', 'meal', 2, 0),"
    "  ('bathing', '助浴', 'Bathing', 'visit', 3, 0),"
    "  ('cleaning', '助洁', 'Cleaning', 'hour', 4, 0),"
    "  ('day_care', '日间照料', 'Day care', 'day', 5, 0),"
    "  ('respite', '短期托养', 'Short-term respite', 'day', 6, 0),"
    "  ('residential_care', '机构养老', 'Residential care', 'month', 7, 0),"
    "  ('home_nursing', '居家护理', 'Home nursing', 'hour', 8, 0),"
    "  ('rehabilitation', '康复护理', 'Rehabilitation', 'visit', 9, 0),"
    "  ('medical_escort', '助医陪诊', 'Medical escort', 'visit', 10, 0),"
    "  ('health_check', '健康体检', 'Health checks', 'visit', 11, 0),"
    "  ('chronic_care', '慢病管理', 'Chronic-disease management', 'month', 12, 0),"
    "  ('psychological', '心理慰藉', 'Psychological comfort', 'hour', 13, 0),"
    "  ('emergency_response', '紧急救援', 'Emergency response', 'month', 14, 0),"
    "  ('family_bed', '家庭照护床位', 'Family care bed', 'month', 15, 0);"
    "CREATE TABLE facilities ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  operator_type TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'suspended', 'closed')),"
    "  name TEXT NOT NULL,"
    "  registration TEXT NOT NULL DEFAULT '',"
    "  address TEXT NOT NULL DEFAULT '',"
    "  lat DOUBLE PRECISION NOT NULL," /* WGS-84 */
    "  lon DOUBLE PRECISION NOT NULL,"
    "  area_code TEXT NOT NULL REFERENCES areas(code),"
    "  phone TEXT,"
    "  hours TEXT NOT NULL DEFAULT '',"
    "  closures TEXT NOT NULL DEFAULT '[]',"
    "  capacity INTEGER,"
    "  beds_total INTEGER,"
    "  beds_free INTEGER,"
    "  rating_tenths INTEGER,"
    "  consortium TEXT NOT NULL DEFAULT '',"
    "  services TEXT NOT NULL DEFAULT '[]',"
    "  rev BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  UNIQUE (area_code, name)"
    ");"
    "CREATE INDEX facilities_rev ON facilities(rev);"
    "CREATE INDEX facilities_kind ON facilities(kind, id);"
    "CREATE TABLE facility_services ("
    "  facility_id BIGINT NOT NULL REFERENCES facilities(id),"
    "  code TEXT NOT NULL REFERENCES services(code),"
    "  price_fen BIGINT NOT NULL,"
    "  PRIMARY KEY (facility_id, code)"
    ");"
    "CREATE INDEX facility_services_code ON facility_services(code, facility_id);"
    "CREATE TABLE directory_rev ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  rev BIGINT NOT NULL"
    ");"
    "INSERT INTO directory_rev (id, rev) VALUES (1, 0);";

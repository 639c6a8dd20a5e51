/* cases_schema.c - schema step 7: matters raised by residents and how they
 * are handled (接诉即办). cases.h states the rules; this is where they are kept.
 *
 *   case_settings          one row: auto-close days, report-in minutes
 *   case_categories        configurable, bilingual, with a deadline class and
 *                          its two limits (response, resolution) in minutes
 *   case_departments       the district's departments as units ("dept-cgj");
 *                          communities, streets and the district are units by
 *                          their area code and need no row
 *   unit_members           who acts for a unit besides its area staff
 *   case_routes            category x area -> lead unit (+ co-handlers as a
 *                          JSON array); retired, never deleted
 *   case_number_seq        the last number given on each Asia/Shanghai day
 *   cases                  one row per case, its current state and deadlines
 *   case_units             units linked to a case now: lead, co, summoned,
 *                          escalated (history is in case_events)
 *   case_photos            content hashes of photo_store files per case
 *   case_events            the append-only history (triggers refuse UPDATE
 *                          and DELETE, like audit_log)
 *   cases_fts              trigram index of title, description and address
 *   volunteer_teams(+_members)
 *
 * Times are Unix milliseconds (BIGINT) like every other table; points WGS-84. */
const char cases_schema_sql[] =
    "CREATE TABLE case_settings ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  auto_close_days INTEGER NOT NULL,"
    "  report_in_minutes INTEGER NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "INSERT INTO case_settings VALUES (1, 7, 30, 0);"
    "CREATE TABLE case_categories ("
    "  code TEXT PRIMARY KEY,"
    "  name_zh TEXT NOT NULL,"
    "  name_en TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  grp TEXT NOT NULL DEFAULT ''," /* Open311 group */
    "  deadline_class TEXT NOT NULL"
    "    CHECK (deadline_class IN ('emergency', 'utilities', 'general', 'complex')),"
    "  response_minutes INTEGER NOT NULL,"
    "  resolve_minutes INTEGER NOT NULL,"
    "  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
    "  attributes TEXT NOT NULL DEFAULT '[]'," /* Open311 attribute definitions, JSON */
    "  position INTEGER NOT NULL DEFAULT 0,"   /* order in lists */
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "INSERT INTO case_categories (code, name_zh, name_en, grp, deadline_class, response_minutes,"
    "  resolve_minutes, position, created_at, updated_at) VALUES"
    "  ('corridor_clutter', '堆物堆料', 'Corridor clutter', '市容环境', 'general', 1440, 10080,"
    "   1, 0, 0),"
    "  ('small_ads', '小广告', 'Illegal small ads', '市容环境', 'general', 1440, 10080, 2, 0, 0),"
    "  ('public_facility', '公共设施损坏', 'Damaged public facilities', '公共设施', 'general',"
    "   1440, 10080, 3, 0, 0),"
    "  ('sanitation', '环境卫生', 'Sanitation', '市容环境', 'general', 1440, 10080, 4, 0, 0),"
    "  ('illegal_parking', '违章停车', 'Illegal parking', '交通', 'general', 1440, 10080, 5, 0,"
    "   0),"
    "  ('noise', '噪音', 'Noise', '市容环境', 'general', 1440, 10080, 6, 0, 0),"
    "  ('property_mgmt', '物业管理', 'Property management', '住房', 'general', 1440, 10080, 7,"
    "   0, 0),"
    "  ('elderly_service', '养老服务', 'Elderly services', '民生服务', 'general', 1440, 10080,"
    "   8, 0, 0),"
    "  ('utilities', '供暖/水/电/气', 'Heating, water, power, gas', '公共设施', 'utilities',"
    "   120, 1440, 9, 0, 0),"
    "  ('other', '其他', 'Other', '', 'general', 1440, 10080, 10, 0, 0);"
    "CREATE TABLE case_departments ("
    "  code TEXT PRIMARY KEY," /* dept-... */
    "  name_zh TEXT NOT NULL,"
    "  name_en TEXT NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL"
    ");"
    "INSERT INTO case_departments VALUES"
    "  ('dept-cgj', '区城管执法局', 'Urban Management Law Enforcement Bureau', 0),"
    "  ('dept-cgw', '区城市管理委员会', 'City Management Commission', 0),"
    "  ('dept-zjw', '区住房和城乡建设委员会', 'Housing and Urban-Rural Development Commission',"
    "   0),"
    "  ('dept-scjg', '区市场监督管理局', 'Market Supervision Bureau', 0),"
    "  ('dept-jtzd', '公安交通管理局朝阳交通支队', 'Traffic Police Detachment', 0),"
    "  ('dept-mzj', '区民政局', 'Civil Affairs Bureau', 0),"
    "  ('dept-sw', '区水务局', 'Water Authority', 0),"
    "  ('dept-sthj', '区生态环境局', 'Ecology and Environment Bureau', 0),"
    "  ('dept-wjw', '区卫生健康委员会', 'Health Commission', 0);"
    "CREATE TABLE unit_members ("
    "  unit_code TEXT NOT NULL,"
    "  user_id BIGINT NOT NULL REFERENCES users(id),"
    "  added_at BIGINT NOT NULL,"
    "  PRIMARY KEY (unit_code, user_id)"
    ");"
    "CREATE INDEX unit_members_user ON unit_members(user_id);"
    "CREATE TABLE case_routes ("
    "  id INTEGER PRIMARY KEY,"
    "  category TEXT REFERENCES case_categories(code)," /* NULL = any */
    "  area TEXT,"                                      /* 12-digit code; NULL = anywhere */
    "  unit TEXT NOT NULL,"                             /* a unit, @community or @street */
    "  co_units TEXT NOT NULL DEFAULT '[]',"            /* JSON array of unit codes */
    "  created_at BIGINT NOT NULL,"
    "  retired_at BIGINT"
    ");"
    "INSERT INTO case_routes (category, area, unit, co_units, created_at) VALUES"
    "  ('illegal_parking', NULL, 'dept-jtzd', '[]', 0),"
    "  ('utilities', NULL, 'dept-cgw', '[\"dept-sw\"]', 0);"
    "CREATE TABLE case_number_seq ("
    "  day INTEGER PRIMARY KEY," /* yyyymmdd, Asia/Shanghai */
    "  last BIGINT NOT NULL"
    ");"
    "CREATE TABLE cases ("
    "  id INTEGER PRIMARY KEY,"
    "  number TEXT NOT NULL UNIQUE,"
    "  channel TEXT NOT NULL CHECK (channel IN ('snap', 'hotline', 'walk_in', 'enterprise',"
    "    'deliberation', 'open311')),"
    "  category TEXT NOT NULL REFERENCES case_categories(code),"
    "  title TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  lat DOUBLE PRECISION," /* WGS-84; NULL without a point */
    "  lon DOUBLE PRECISION,"
    "  address TEXT NOT NULL DEFAULT '',"
    "  area_code TEXT," /* 12 digits; NULL when not known */
    "  area_from_point INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL CHECK (state IN ('submitted', 'accepted', 'dispatched',"
    "    'in_progress', 'resolved', 'closed', 'rejected', 'duplicate')),"
    "  priority INTEGER NOT NULL DEFAULT 1," /* 0 low .. 3 urgent */
    "  reporter_user_id BIGINT REFERENCES users(id),"
    "  reporter_public INTEGER NOT NULL DEFAULT 0,"
    "  contact_name TEXT NOT NULL DEFAULT '',"
    "  contact_phone TEXT NOT NULL DEFAULT '',"
    "  contact_email TEXT NOT NULL DEFAULT '',"
    "  client TEXT NOT NULL DEFAULT ''," /* Open311 client */
    "  recorded_by BIGINT,"              /* the account that entered it; NULL = system */
    "  unit_code TEXT NOT NULL,"         /* the lead unit */
    "  escalated_to TEXT NOT NULL DEFAULT '',"
    "  escalations INTEGER NOT NULL DEFAULT 0,"
    "  deadline_class TEXT NOT NULL,"
    "  response_minutes INTEGER NOT NULL,"
    "  resolve_minutes INTEGER NOT NULL,"
    "  response_due_at BIGINT NOT NULL,"
    "  resolve_due_at BIGINT," /* from acceptance (or reopening) */
    "  flags INTEGER NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL,"
    "  accepted_at BIGINT,"
    "  resolved_at BIGINT,"
    "  closed_at BIGINT,"
    "  updated_at BIGINT NOT NULL,"
    "  resolutions INTEGER NOT NULL DEFAULT 0,"
    "  rated_resolution INTEGER NOT NULL DEFAULT 0,"
    "  rating TEXT CHECK (rating IN ('satisfied', 'basically_satisfied', 'unsatisfied')),"
    "  rating_comment TEXT NOT NULL DEFAULT '',"
    "  duplicate_of BIGINT REFERENCES cases(id),"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  attributes TEXT NOT NULL DEFAULT '{}'"
    ");"
    "CREATE INDEX cases_area ON cases(area_code, id);"
    "CREATE INDEX cases_unit ON cases(unit_code, id);"
    "CREATE INDEX cases_reporter ON cases(reporter_user_id, id);"
    "CREATE INDEX cases_created ON cases(created_at);"
    "CREATE INDEX cases_category ON cases(category, id);"
    "CREATE INDEX cases_updated ON cases(updated_at);"
    /* The scheduler walks the few cases in each pending state. */
    "CREATE INDEX cases_state ON cases(state, id);"
    /* The nearby search: open cases of a category, by latitude. */
    "CREATE INDEX cases_open_place ON cases(category, lat)"
    "  WHERE state IN ('submitted', 'accepted', 'dispatched', 'in_progress');"
    "CREATE TABLE case_units ("
    "  case_id BIGINT NOT NULL REFERENCES cases(id),"
    "  unit_code TEXT NOT NULL,"
    "  link TEXT NOT NULL CHECK (link IN ('lead', 'co', 'summoned', 'escalated')),"
    "  linked_at BIGINT NOT NULL,"
    "  due_at BIGINT,"      /* summoned: report in by then */
    "  reported_at BIGINT," /* summoned: when it did */
    "  late INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (case_id, unit_code, link)"
    ");"
    "CREATE INDEX case_units_unit ON case_units(unit_code, case_id);"
    "CREATE INDEX case_units_pending ON case_units(due_at)"
    "  WHERE link = 'summoned' AND reported_at IS NULL AND late = 0;"
    "CREATE TABLE case_photos ("
    "  case_id BIGINT NOT NULL REFERENCES cases(id),"
    "  hash TEXT NOT NULL," /* hex SHA-256: the photo_store key */
    "  type TEXT NOT NULL,"
    "  size BIGINT NOT NULL,"
    "  width INTEGER NOT NULL DEFAULT 0,"
    "  height INTEGER NOT NULL DEFAULT 0,"
    "  event_id BIGINT,"
    "  added_by BIGINT,"
    "  added_at BIGINT NOT NULL,"
    "  PRIMARY KEY (case_id, hash)"
    ");"
    "CREATE TABLE case_events ("
    "  id INTEGER PRIMARY KEY,"
    "  case_id BIGINT NOT NULL REFERENCES cases(id),"
    "  at BIGINT NOT NULL,"
    "  kind TEXT NOT NULL,"  /* cases.h CASE_EV_* */
    "  state TEXT NOT NULL," /* the case's state after the event */
    "  actor_user_id BIGINT,"
    "  actor_unit TEXT NOT NULL DEFAULT '',"
    "  note TEXT NOT NULL DEFAULT '',"
    "  public INTEGER NOT NULL DEFAULT 0," /* the note may be shown publicly */
    "  detail TEXT NOT NULL DEFAULT '{}'"
    ");"
    "CREATE INDEX case_events_case ON case_events(case_id, id);"
    "CREATE INDEX case_events_kind ON case_events(kind, at);"
    "CREATE INDEX case_events_at ON case_events(at);"
    "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events"
    "  BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;"
    "CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events"
    "  BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;"
    "CREATE VIRTUAL TABLE cases_fts USING fts5(title, description, address, content='cases',"
    "  content_rowid='id', tokenize='trigram', columnsize=0);"
    "CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN"
    "  INSERT INTO cases_fts(rowid, title, description, address)"
    "  VALUES (new.id, new.title, new.description, new.address); END;"
    "CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN"
    "  INSERT INTO cases_fts(cases_fts, rowid, title, description, address)"
    "  VALUES ('delete', old.id, old.title, old.description, old.address); END;"
    "CREATE TRIGGER cases_fts_update AFTER UPDATE OF title, description, address ON cases BEGIN"
    "  INSERT INTO cases_fts(cases_fts, rowid, title, description, address)"
    "  VALUES ('delete', old.id, old.title, old.description, old.address);"
    "  INSERT INTO cases_fts(rowid, title, description, address)"
    "  VALUES (new.id, new.title, new.description, new.address); END;"
    "CREATE TABLE volunteer_teams ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  area_code TEXT NOT NULL REFERENCES areas(code),"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  UNIQUE (area_code, name)"
    ");"
    "CREATE TABLE volunteer_team_members ("
    "  team_id BIGINT NOT NULL REFERENCES volunteer_teams(id),"
    "  user_id BIGINT NOT NULL REFERENCES users(id),"
    "  joined_at BIGINT NOT NULL,"
    "  PRIMARY KEY (team_id, user_id)"
    ");"
    "CREATE INDEX volunteer_team_members_user ON volunteer_team_members(user_id);";

/* Schema step 10: the lists by deadline. Every case that waits on a deadline
 * (submitted: the response; accepted to in progress: the resolution) by that
 * deadline and id, so `GET /api/v1/cases?overdue=true` reads only the cases
 * past it and `?sort=due` reads a page in order; the expression is NULL for
 * the others (resolved and final), which the index leaves out. It is written
 * as cases_read.c's queries write it (PENDING_DUE): SQLite uses an
 * expression index only for the same expression. */
const char cases_due_schema_sql[] =
    "CREATE INDEX cases_pending_due ON cases("
    "  (CASE WHEN state = 'submitted' THEN response_due_at"
    "   WHEN state IN ('accepted', 'dispatched', 'in_progress')"
    "   THEN COALESCE(resolve_due_at, response_due_at) END), id)"
    "  WHERE (CASE WHEN state = 'submitted' THEN response_due_at"
    "   WHEN state IN ('accepted', 'dispatched', 'in_progress')"
    "   THEN COALESCE(resolve_due_at, response_due_at) END) IS NOT NULL;";

/* people_schema.c - schema step 4: residents' profiles and their ordered
 * emergency contacts. Birth date and sex are derived from the ID number on
 * the way in and stored for indexing; age is computed when read. Names are
 * indexed for Chinese substring search with an FTS5 trigram table kept in
 * step by triggers (a PostgreSQL driver uses pg_trgm instead). */
const char people_schema_sql[] =
    "CREATE TABLE people ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  id_number TEXT UNIQUE," /* normalised (upper-case X); NULL when not given */
    "  birth_date TEXT,"       /* YYYY-MM-DD, from the ID number */
    "  sex TEXT,"              /* M or F, from the ID number */
    "  phone TEXT,"            /* digits only */
    "  address TEXT NOT NULL DEFAULT '',"
    "  lat DOUBLE PRECISION," /* home point, WGS-84 */
    "  lon DOUBLE PRECISION,"
    "  community_code TEXT NOT NULL REFERENCES areas(code),"
    "  living_alone INTEGER NOT NULL DEFAULT 0 CHECK (living_alone IN (0, 1)),"
    "  care_level TEXT NOT NULL DEFAULT 'self_care'"
    "    CHECK (care_level IN ('self_care', 'partly_dependent', 'dependent')),"
    "  disability TEXT,"
    "  subsidy_class TEXT,"                    /* dibao, tekun, low_income, shidu, youfu, other */
    "  conditions TEXT NOT NULL DEFAULT '[]'," /* JSON array of strings */
    "  consent INTEGER NOT NULL DEFAULT 0 CHECK (consent IN (0, 1)),"
    "  consent_at BIGINT," /* when consent was last given; NULL without it */
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX people_community ON people(community_code, id);"
    "CREATE INDEX people_phone ON people(phone);"
    "CREATE INDEX people_birth ON people(birth_date);"
    "CREATE TABLE emergency_contacts ("
    "  person_id BIGINT NOT NULL REFERENCES people(id),"
    "  position INTEGER NOT NULL," /* 1 = called first */
    "  name TEXT NOT NULL,"
    "  relation TEXT NOT NULL DEFAULT '',"
    "  phone TEXT NOT NULL,"
    "  PRIMARY KEY (person_id, position)"
    ");"
    /* An operator finds a caller by number, whether the person or a contact rang. */
    "CREATE INDEX emergency_contacts_phone ON emergency_contacts(phone);"
    /* columnsize=0: no per-row size record, which only ranking (unused) needs;
     * a bulk import writes about 13% faster without it. */
    "CREATE VIRTUAL TABLE people_fts USING fts5(name, content='people', content_rowid='id',"
    "  tokenize='trigram', columnsize=0);"
    "CREATE TRIGGER people_fts_insert AFTER INSERT ON people BEGIN"
    "  INSERT INTO people_fts(rowid, name) VALUES (new.id, new.name); END;"
    "CREATE TRIGGER people_fts_delete AFTER DELETE ON people BEGIN"
    "  INSERT INTO people_fts(people_fts, rowid, name) VALUES ('delete', old.id, old.name); END;"
    "CREATE TRIGGER people_fts_update AFTER UPDATE OF name ON people BEGIN"
    "  INSERT INTO people_fts(people_fts, rowid, name) VALUES ('delete', old.id, old.name);"
    "  INSERT INTO people_fts(rowid, name) VALUES (new.id, new.name); END;";

/* Schema step 11: revision numbers of the data reports are computed from,
 * so a report can be kept until what it counts changes. Triggers bump them
 * in the writing transaction, whoever writes (linlid, `linli import`, a
 * script): `people` when a person arrives, leaves, or changes birth date,
 * community or home point; `areas` on any change to the area list. */
const char data_revs_schema_sql[] =
    "CREATE TABLE data_revs ("
    "  name TEXT PRIMARY KEY,"
    "  rev INTEGER NOT NULL"
    ");"
    "INSERT INTO data_revs (name, rev) VALUES ('people', 0), ('areas', 0);"
    "CREATE TRIGGER people_rev_insert AFTER INSERT ON people BEGIN"
    "  UPDATE data_revs SET rev = rev + 1 WHERE name = 'people'; END;"
    "CREATE TRIGGER people_rev_delete AFTER DELETE ON people BEGIN"
    "  UPDATE data_revs SET rev = rev + 1 WHERE name = 'people'; END;"
    "CREATE TRIGGER people_rev_update AFTER UPDATE OF birth_date, community_code, lat, lon"
    "  ON people BEGIN"
    "  UPDATE data_revs SET rev = rev + 1 WHERE name = 'people'; END;"
    "CREATE TRIGGER areas_rev_insert AFTER INSERT ON areas BEGIN"
    "  UPDATE data_revs SET rev = rev + 1 WHERE name = 'areas'; END;"
    "CREATE TRIGGER areas_rev_delete AFTER DELETE ON areas BEGIN"
    "  UPDATE data_revs SET rev = rev + 1 WHERE name = 'areas'; END;"
    "CREATE TRIGGER areas_rev_update AFTER UPDATE ON areas BEGIN"
    "  UPDATE data_revs SET rev = rev + 1 WHERE name = 'areas'; END;";

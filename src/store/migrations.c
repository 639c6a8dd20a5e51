/* migrations.c - the schema steps. Each step runs once, in order, inside one
 * transaction, and moves PRAGMA user_version to its number. A released step
 * is never edited: a change is a new step.
 *
 * Types are kept to what PostgreSQL also has (TEXT, BIGINT, INTEGER); a
 * PostgreSQL driver carries its own DDL for the few places SQLite differs
 * (INTEGER PRIMARY KEY identity columns, triggers). */
#include "store/migrations.h"

/* Later steps live beside the module that owns their tables. */
extern const char registry_schema_sql[];       /* src/domain/registry_schema.c */
extern const char stations_schema_sql[];       /* src/domain/stations_schema.c */
extern const char people_schema_sql[];         /* src/domain/people_schema.c */
extern const char directory_schema_sql[];      /* src/domain/directory_schema.c */
extern const char hotline_schema_sql[];        /* src/domain/hotline_schema.c */
extern const char cases_schema_sql[];          /* src/domain/cases_schema.c */
extern const char open311_schema_sql[];        /* src/domain/open311_schema.c */
extern const char hotline_signal_schema_sql[]; /* src/domain/hotline_schema.c */
extern const char cases_due_schema_sql[];      /* src/domain/cases_schema.c */
extern const char data_revs_schema_sql[];      /* src/domain/people_schema.c */
extern const char users_reset_schema_sql[];    /* src/domain/users.c */

const struct migration store_migrations[] = {
    {1, "accounts, sessions, audit log, idempotency keys",
     "CREATE TABLE users ("
     "  id INTEGER PRIMARY KEY,"
     "  username TEXT NOT NULL UNIQUE,"
     "  display_name TEXT NOT NULL DEFAULT '',"
     "  role TEXT NOT NULL,"
     "  scope TEXT,"
     "  password_hash TEXT,"
     "  disabled INTEGER NOT NULL DEFAULT 0,"
     "  created_at BIGINT NOT NULL,"
     "  updated_at BIGINT NOT NULL"
     ");"
     "CREATE TABLE sessions ("
     "  token_hash TEXT PRIMARY KEY,"
     "  user_id BIGINT NOT NULL REFERENCES users(id),"
     "  created_at BIGINT NOT NULL,"
     "  expires_at BIGINT NOT NULL,"
     "  revoked_at BIGINT,"
     "  ip TEXT"
     ");"
     "CREATE INDEX sessions_user ON sessions(user_id);"
     "CREATE INDEX sessions_expiry ON sessions(expires_at);"
     "CREATE TABLE audit_log ("
     "  id INTEGER PRIMARY KEY,"
     "  at BIGINT NOT NULL,"
     "  user_id BIGINT,"
     "  username TEXT,"
     "  action TEXT NOT NULL,"
     "  object TEXT,"
     "  detail TEXT,"
     "  ip TEXT,"
     "  request_id TEXT"
     ");"
     "CREATE INDEX audit_user ON audit_log(user_id, id);"
     "CREATE INDEX audit_action ON audit_log(action, id);"
     "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TABLE idempotency_keys ("
     "  user_id BIGINT NOT NULL,"
     "  idem_key TEXT NOT NULL,"
     "  route TEXT NOT NULL,"
     "  request_hash TEXT NOT NULL,"
     "  resource_id BIGINT NOT NULL,"
     "  created_at BIGINT NOT NULL,"
     "  PRIMARY KEY (user_id, idem_key)"
     ");"
     "CREATE INDEX idempotency_age ON idempotency_keys(created_at);"},
    {2, "areas and their history", registry_schema_sql},
    {3, "social-work stations and support teams", stations_schema_sql},
    {4, "residents and emergency contacts", people_schema_sql},
    {5, "the service catalogue and facilities", directory_schema_sql},
    {6, "one-key call centre: devices, calls, care plans, tasks", hotline_schema_sql},
    {7, "cases: categories, units, routing, the workflow and its events", cases_schema_sql},
    {8, "Open311 clients' keys and their requests' media URLs", open311_schema_sql},
    {9, "devices: a signal never reported is NULL, not -1", hotline_signal_schema_sql},
    {10, "cases: the index of pending deadlines", cases_due_schema_sql},
    {11, "revision numbers of people and areas, for reports kept until they change",
     data_revs_schema_sql},
    {12, "accounts: a password an admin set is to be changed by its owner", users_reset_schema_sql},
};

const int store_migration_count = (int)(sizeof store_migrations / sizeof store_migrations[0]);

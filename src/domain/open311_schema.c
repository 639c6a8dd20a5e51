/* open311_schema.c - schema step 8: the Open311 facade's own tables.
 *
 * open311_clients  one row per API key: the client's name, the key's SHA-256
 *                  (the key itself is never stored), a short hint to tell
 *                  keys apart in a list, when it was made and revoked.
 * open311_media    the media_url a client sent with a request, by case: a
 *                  case has no field for a URL of media kept elsewhere. */
const char open311_schema_sql[] =
    "CREATE TABLE open311_clients ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  key_hash TEXT NOT NULL UNIQUE," /* hex SHA-256 of the key */
    "  key_hint TEXT NOT NULL,"        /* "o311_" and the key's next 4 characters */
    "  created_at BIGINT NOT NULL,"
    "  revoked_at BIGINT"
    ");"
    "CREATE INDEX open311_clients_name ON open311_clients(name);"
    "CREATE TABLE open311_media ("
    "  case_id BIGINT PRIMARY KEY REFERENCES cases(id),"
    "  client_id BIGINT NOT NULL REFERENCES open311_clients(id),"
    "  url TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL"
    ");";

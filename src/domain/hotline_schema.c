/* hotline_schema.c - schema step 6: the one-key call centre (一键呼).
 *
 *   devices, subscriptions   the call buttons and who carries them, when;
 *   device_events            every durable event a device sent (key presses,
 *                            falls, check-ins, ...), unique per device and
 *                            event id so a retried event is never a second one;
 *                            heartbeats are not stored here, only their effect
 *                            on devices (last seen, battery, signal), flushed
 *                            in batches;
 *   calls, call_events       a call and its append-only timeline;
 *   call_actions             what was done for a call: a service order, an
 *                            emergency contact tried, an escalation to
 *                            120/119/110, a follow-up, a note;
 *   care_plans, tasks        proactive care: plans per person, and the
 *                            outbound, urgent and maintenance tasks operators
 *                            work through.
 *
 * Times are Unix milliseconds (BIGINT) like every other table. */
const char hotline_schema_sql[] =
    "CREATE TABLE devices ("
    "  id INTEGER PRIMARY KEY,"
    "  serial TEXT NOT NULL UNIQUE," /* IMEI or maker's serial: the device's id on the wire */
    "  model TEXT NOT NULL DEFAULT '',"
    "  firmware TEXT NOT NULL DEFAULT '',"
    "  secret TEXT NOT NULL," /* hex, 32 bytes: the HMAC key; never sent back */
    "  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),"
    "  battery INTEGER," /* percent, last reported */
    "  signal INTEGER,"  /* dBm, last reported */
    "  last_seen_at BIGINT,"
    "  lat DOUBLE PRECISION," /* last location, WGS-84 */
    "  lon DOUBLE PRECISION,"
    "  located_at BIGINT,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE TABLE subscriptions ("
    "  id INTEGER PRIMARY KEY,"
    "  device_id BIGINT NOT NULL REFERENCES devices(id),"
    "  person_id BIGINT NOT NULL REFERENCES people(id),"
    "  starts_at BIGINT NOT NULL,"
    "  ends_at BIGINT," /* NULL = open-ended */
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX subscriptions_device ON subscriptions(device_id, starts_at);"
    "CREATE INDEX subscriptions_person ON subscriptions(person_id);"
    "CREATE TABLE device_events ("
    "  id INTEGER PRIMARY KEY,"
    "  device_id BIGINT NOT NULL REFERENCES devices(id),"
    "  event_id TEXT NOT NULL,"
    "  person_id BIGINT," /* the subscriber when it arrived */
    "  kind TEXT NOT NULL,"
    "  key TEXT,"
    "  detail TEXT NOT NULL DEFAULT '{}'," /* the event's other fields, JSON */
    "  device_at BIGINT,"                  /* the device's clock */
    "  received_at BIGINT NOT NULL,"
    "  door TEXT NOT NULL," /* http or mqtt */
    "  call_id BIGINT,"
    "  UNIQUE (device_id, event_id)"
    ");"
    "CREATE INDEX device_events_person ON device_events(person_id, kind, received_at);"
    "CREATE TABLE calls ("
    "  id INTEGER PRIMARY KEY,"
    "  direction TEXT NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),"
    "  person_id BIGINT REFERENCES people(id),"
    "  device_id BIGINT REFERENCES devices(id),"
    "  community_code TEXT,"                 /* the caller's, for scope and figures */
    "  trigger TEXT NOT NULL,"               /* the key, or fall, or manual */
    "  priority INTEGER NOT NULL DEFAULT 1," /* 0 = urgent: jumps the queue */
    "  state TEXT NOT NULL,"
    "  category TEXT,"
    "  operator_id BIGINT," /* who answered */
    "  created_at BIGINT NOT NULL,"
    "  offered_at BIGINT,"
    "  answered_at BIGINT,"
    "  classified_at BIGINT,"
    "  closed_at BIGINT,"
    "  outcome TEXT,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX calls_state ON calls(state, priority, id);"
    "CREATE INDEX calls_person ON calls(person_id, id);"
    "CREATE INDEX calls_created ON calls(created_at);"
    "CREATE TABLE call_events ("
    "  id INTEGER PRIMARY KEY,"
    "  call_id BIGINT NOT NULL REFERENCES calls(id),"
    "  at BIGINT NOT NULL,"
    "  user_id BIGINT," /* NULL = the system */
    "  kind TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '{}'"
    ");"
    "CREATE INDEX call_events_call ON call_events(call_id, id);"
    "CREATE TRIGGER call_events_no_update BEFORE UPDATE ON call_events"
    "  BEGIN SELECT RAISE(ABORT, 'a call timeline is append-only'); END;"
    "CREATE TRIGGER call_events_no_delete BEFORE DELETE ON call_events"
    "  BEGIN SELECT RAISE(ABORT, 'a call timeline is append-only'); END;"
    "CREATE TABLE call_actions ("
    "  id INTEGER PRIMARY KEY,"
    "  call_id BIGINT NOT NULL REFERENCES calls(id),"
    "  kind TEXT NOT NULL," /* service_order, contact, escalation, follow_up, note */
    "  state TEXT NOT NULL,"
    "  facility_id BIGINT REFERENCES facilities(id),"
    "  service TEXT,"
    "  contact_position INTEGER,"
    "  target TEXT," /* 120, 119, 110 */
    "  due_at BIGINT,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  user_id BIGINT,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX call_actions_call ON call_actions(call_id, id);"
    "CREATE TABLE care_plans ("
    "  id INTEGER PRIMARY KEY,"
    "  person_id BIGINT NOT NULL REFERENCES people(id),"
    "  kind TEXT NOT NULL,"
    "  time_of_day INTEGER NOT NULL DEFAULT 600," /* minutes after midnight, Asia/Shanghai */
    "  weekday INTEGER,"                          /* 0 = Monday, for weekly plans */
    "  interval_days INTEGER,"                    /* for custom plans */
    "  starts_on TEXT NOT NULL,"                  /* YYYY-MM-DD */
    "  ends_on TEXT,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
    "  last_due_on TEXT," /* the last date a task was made for */
    "  created_by BIGINT,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX care_plans_person ON care_plans(person_id);"
    "CREATE INDEX care_plans_active ON care_plans(active, kind);"
    "CREATE TABLE tasks ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  priority INTEGER NOT NULL DEFAULT 1," /* 0 urgent, 1 normal, 2 maintenance */
    "  state TEXT NOT NULL DEFAULT 'open',"
    "  person_id BIGINT REFERENCES people(id),"
    "  device_id BIGINT REFERENCES devices(id),"
    "  plan_id BIGINT REFERENCES care_plans(id),"
    "  call_id BIGINT REFERENCES calls(id),"
    "  community_code TEXT,"
    "  due_at BIGINT NOT NULL,"
    "  operator_id BIGINT,"
    "  outcome TEXT,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  dedupe TEXT UNIQUE," /* e.g. plan:12:2026-11-25: one task per plan per day */
    "  created_at BIGINT NOT NULL,"
    "  done_at BIGINT,"
    "  updated_at BIGINT NOT NULL"
    ");"
    "CREATE INDEX tasks_open ON tasks(state, priority, due_at);"
    "CREATE INDEX tasks_person ON tasks(person_id, id);"
    "CREATE INDEX tasks_done ON tasks(done_at);";

/* Schema step 9. Until it, a device that had never reported its signal got
 * -1 written to devices.signal by the heartbeat flush: the memory's old mark
 * for "never reported", which lies inside the dBm range. No cellular device
 * reports -1 dBm (they top out near -50), so every -1 stored is that mark:
 * it becomes NULL, what the store means by "never reported". */
const char hotline_signal_schema_sql[] = "UPDATE devices SET signal = NULL WHERE signal = -1;";

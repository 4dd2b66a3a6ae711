/**
 * DDL of the spool database. Bump USER_VERSION and add a migration step when it changes.
 * 2: `records.raw_at`, the file sinks' commit marks and the spool's own counters in `state` (an older
 * build would ignore and then break them, so it refuses a spool of this version instead).
 * 3: the rules' baseline series in `state` written compact (no rule, entity type and id, label, empty streak or
 * open windows: core/rules/baseline.ts). A build of version 2 read them without error as series with no entity and
 * raised alerts naming none (and missed others): it refuses the spool instead.
 */
export const USER_VERSION = 3;

/** Columns added after a table's first release, for spools created before them (nullable: older code ignores them). */
export const ADDED_COLUMNS: Array<{ table: string; column: string; type: string }> = [
  { table: 'records', column: 'raw_at', type: 'INTEGER' },
  { table: 'state', column: 'touched', type: 'INTEGER' },
];

export const DDL = `
CREATE TABLE IF NOT EXISTS records (
  seq   INTEGER PRIMARY KEY AUTOINCREMENT,
  kind  TEXT NOT NULL,            -- 'event' | 'alert'
  id    TEXT NOT NULL,
  body  TEXT NOT NULL,            -- JSON of the normalized event or alert
  bytes INTEGER NOT NULL,
  added INTEGER NOT NULL,         -- epoch ms when committed
  raw_at INTEGER                  -- byte offset in body where its trailing ',"raw":…' begins, when it has one
);
CREATE TABLE IF NOT EXISTS dedup (
  id    TEXT PRIMARY KEY,
  added INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedup_added ON dedup(added);
CREATE TABLE IF NOT EXISTS cursors (
  consumer TEXT PRIMARY KEY,
  seq      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
  dlq_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  sink      TEXT NOT NULL,
  kind      TEXT NOT NULL,
  record_id TEXT NOT NULL,
  body      TEXT NOT NULL,
  reason    TEXT NOT NULL,
  status    TEXT NOT NULL DEFAULT 'dead',  -- 'dead' | 'retry' | 'parked' (held until its destination takes it)
  attempts  INTEGER NOT NULL DEFAULT 1,
  added     INTEGER NOT NULL,
  updated   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_sink ON dead_letters(sink, status);
-- spool.dead_letter_retention_days: the dead letters past it are found without a scan of the table.
CREATE INDEX IF NOT EXISTS dead_letters_expiry ON dead_letters(status, updated);
CREATE TABLE IF NOT EXISTS quarantine (
  q_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  channel  TEXT NOT NULL,
  reason   TEXT NOT NULL,
  body     BLOB NOT NULL,
  meta     TEXT NOT NULL DEFAULT '{}',
  added    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_log (
  n       INTEGER PRIMARY KEY AUTOINCREMENT,
  id      TEXT NOT NULL UNIQUE,
  time    TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  mode    TEXT NOT NULL,
  body    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_log_time ON alert_log(time);
CREATE TABLE IF NOT EXISTS state (
  ns    TEXT NOT NULL,
  key   TEXT NOT NULL,
  value TEXT NOT NULL,
  touched INTEGER,               -- epoch ms when last written (rows written before it was kept: NULL)
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
`;

/** What the spool stores and gives back: record items, read records, dead letters, quarantine rows, and its options. */
export type RecordKind = 'event' | 'alert';

export interface SpoolItem {
  kind: RecordKind;
  id: string;
  /** JSON text of the record. Serialized once, by the caller. */
  body: string;
  /**
   * Byte offset in `body` where its trailing `,"raw":…` member begins (see
   * `serializeEvent`), so a reader that has no use for the native record can
   * skip it; undefined when the body has no such member.
   */
  rawAt?: number;
  /**
   * An event a sender outside mltrail's connectors made (`POST /v1/events`).
   * It is a duplicate of any event already taken, but its id is remembered
   * apart: ids of connector events are derived from the native record, so a
   * token holder could otherwise send one first and have the real event
   * dropped as its duplicate.
   */
  forwarded?: boolean;
}

export interface SpoolRecord extends SpoolItem {
  seq: number;
  added: number;
  /** UTF-8 bytes of `body`, when known without reading it. */
  size?: number;
  /** The body without its `raw` member (a smaller parse for a reader that ignores it), when the spool can give it cheaply. */
  leanBody?: string;
}

export interface AppendResult {
  /** Ids newly committed. */
  accepted: string[];
  /** Ids already seen inside the dedup window (not stored again). */
  duplicates: string[];
}

export interface DeadLetter {
  dlq_id: number;
  sink: string;
  kind: RecordKind;
  record_id: string;
  body: string;
  reason: string;
  status: 'dead' | 'retry' | 'parked';
  attempts: number;
  added: number;
  updated: number;
}

export interface QuarantineEntry {
  q_id: number;
  channel: string;
  reason: string;
  body: Buffer;
  meta: Record<string, unknown>;
  added: number;
}

export interface SpoolOptions {
  /** Data directory; the database is `<dir>/spool.db`. ':memory:' for a throwaway spool. */
  dir: string;
  /** Undelivered bytes at which new input is refused (503). Alerts are never refused. */
  maxBytes?: number;
  /**
   * FULL: an append resolves only after its commit is fsynced (survives power
   * loss); NORMAL: after the commit is written (survives process crashes).
   * FULL is implemented as SQLite NORMAL plus an fdatasync of the WAL in the
   * thread pool, shared by every append committed meanwhile — the event loop
   * never blocks on the disk.
   */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  /** How long an id is remembered for dedup. */
  dedupWindowMs?: number;
  /**
   * Most ids remembered for dedup (~150 bytes of disk each). Past it the
   * oldest are forgotten first: under a sustained high rate the window
   * shrinks instead of the dedup table outgrowing the disk.
   */
  dedupMaxIds?: number;
  /** Seconds a refused sender is told to wait (Retry-After). At most 60. */
  retryAfterS?: number;
  /** Recent alerts kept for GET /v1/alerts. */
  alertLogMax?: number;
  /** How long quarantined input is kept (ms) before pruning deletes it; 0 or unset: until `mltrail quarantine purge`. */
  quarantineRetentionMs?: number;
  /**
   * How long a dead letter (status `dead`: refused for good, not parked nor marked for retry) is kept after its last
   * refusal (ms) before pruning deletes it; 0 or unset: until `mltrail dlq purge`.
   */
  deadLetterRetentionMs?: number;
  /** WAL file size left on disk once every commit is checkpointed (bytes; default 64 MiB): past it `checkpoint()` truncates the file. */
  walKeepBytes?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** A second connection, for a consumer thread: no busy handler (its transactions poll for the lock) and no undelivered-bytes count (the owner keeps it). */
  consumer?: boolean;
}

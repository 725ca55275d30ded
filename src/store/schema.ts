import type { SqliteDb } from './sqlite.js';

/** Settings key of the schema version: the number of migrations applied. */
export const SCHEMA_VERSION_KEY = 'schema_version';

/** Settings key of the last event `seq` handed out; never decreases, even after pruning. */
export const LAST_SEQ_KEY = 'events.last_seq';

/**
 * Migrations in order; migration `i` takes the schema from version `i` to `i + 1`.
 * Append only: a released migration is never edited.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    ts INTEGER NOT NULL,
    type TEXT NOT NULL,
    reason TEXT,
    iss TEXT,
    sub TEXT,
    cti TEXT,
    payload TEXT NOT NULL,
    delivered_at INTEGER
  );
  CREATE INDEX events_outbox ON events (seq) WHERE delivered_at IS NULL;
  CREATE INDEX events_ts ON events (ts);
  CREATE TABLE replay (
    iss TEXT NOT NULL,
    cti TEXT NOT NULL,
    first_used_ms INTEGER NOT NULL,
    exp_sec INTEGER NOT NULL,
    PRIMARY KEY (iss, cti)
  );
  CREATE TABLE revocations (
    iss TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('sub', 'cti')),
    value TEXT NOT NULL,
    until_sec INTEGER,
    PRIMARY KEY (iss, kind, value)
  );
  INSERT INTO settings (key, value) VALUES ('${LAST_SEQ_KEY}', '0');
  `,
  // 2: events the broker will not take (field case M4) are set aside: kept in the journal,
  // out of the outbox, never pruned by retention.
  `
  ALTER TABLE events ADD COLUMN set_aside_at INTEGER;
  DROP INDEX events_outbox;
  CREATE INDEX events_outbox ON events (seq) WHERE delivered_at IS NULL AND set_aside_at IS NULL;
  CREATE INDEX replay_exp ON replay (exp_sec);
  `,
  // 3: ids (jti) of the signed commands carried out, so none runs twice, even after a restart;
  // pruned once expired.
  `
  CREATE TABLE command_ids (jti TEXT PRIMARY KEY, exp_sec INTEGER NOT NULL);
  CREATE INDEX command_ids_exp ON command_ids (exp_sec);
  `,
  // 4: two kinds of set-aside event (field case M4). `refused`: over mqtt.maxEventBytes, never
  // sent; retried once the limit has been raised above its size. `suspected`: the connection
  // dropped while it was in flight, time after time; retried with a backoff whose state is kept
  // here, so that it survives restarts. Rows set aside by an older ridergate (no kind) become
  // suspected and due at once: a retry checks the size before anything is sent, so an event
  // that was in fact too large is found refused without reaching the broker.
  `
  ALTER TABLE events ADD COLUMN set_aside_kind TEXT
    CHECK (set_aside_kind IN ('refused', 'suspected'));
  ALTER TABLE events ADD COLUMN set_aside_retries INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE events ADD COLUMN set_aside_retry_at INTEGER;
  UPDATE events SET set_aside_kind = 'suspected', set_aside_retry_at = set_aside_at
    WHERE set_aside_at IS NOT NULL AND delivered_at IS NULL;
  CREATE INDEX events_aside ON events (set_aside_retry_at, seq)
    WHERE set_aside_at IS NOT NULL AND delivered_at IS NULL;
  `,
];

/** The schema version this code writes. */
export const CURRENT_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The schema version of an open file without changing it: 0 for a new file (no settings
 * table yet), or the number of migrations already applied. Read this before {@link migrate}
 * to refuse a file written by a newer ridergate.
 * @returns `NaN` when the stored version is not a whole number.
 */
export async function readSchemaVersion(db: SqliteDb): Promise<number> {
  const table = await db.get<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'settings'",
  );
  if (table === undefined) return 0;
  const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [
    SCHEMA_VERSION_KEY,
  ]);
  if (row === undefined) return 0;
  return /^\d+$/.test(row.value) ? Number(row.value) : Number.NaN;
}

/**
 * Brings the schema up to {@link CURRENT_SCHEMA_VERSION}, one transaction per migration.
 * Nothing is written to a file of a newer or unreadable version.
 * @param toVersion stop at this version instead (tests build the files older releases wrote).
 * @returns the version found before migrating (0 for a new file).
 * @throws Error when the file was written by a newer ridergate.
 */
export async function migrate(db: SqliteDb, toVersion = CURRENT_SCHEMA_VERSION): Promise<number> {
  const found = await readSchemaVersion(db);
  if (!Number.isInteger(found) || found > CURRENT_SCHEMA_VERSION) {
    throw new Error(`schema version ${found} is newer than ${CURRENT_SCHEMA_VERSION}`);
  }
  await db.exec('CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  for (let version = found; version < Math.min(toVersion, CURRENT_SCHEMA_VERSION); version++) {
    await db.exec('BEGIN IMMEDIATE');
    try {
      await db.exec(MIGRATIONS[version] ?? '');
      await db.run(
        'INSERT INTO settings (key, value) VALUES (?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [SCHEMA_VERSION_KEY, String(version + 1)],
      );
      await db.exec('COMMIT');
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
  return found;
}

import type { GateEvent } from '../event.js';
import { BUSY_TIMEOUT_MS } from './open-store.js';
import { CURRENT_SCHEMA_VERSION, migrate, readSchemaVersion } from './schema.js';
import { SqliteDb } from './sqlite.js';
import { pathError, requireStoreFile, storeError } from './store-errors.js';
import type { SetAsideKind } from './types.js';

/** The first schema version of a gate store (migration 1 made its tables): below it, not one. */
const FIRST_GATE_STORE_VERSION = 1;

/** Which set-aside events `ridergate events requeue` takes: all of them, or one by seq. */
export type RequeueSelection = { all: true } | { seq: number };

/** What {@link requeueSetAside} did. */
export interface RequeueResult {
  /** Suspected events now due at once, their backoff started afresh. */
  requeued: GateEvent[];
  /**
   * Refused events left as they are, with their size as published (with `replay: true`),
   * bytes: the gate retries them by itself once `mqtt.maxEventBytes` is at least that size.
   */
  refused: { event: GateEvent; bytes: number }[];
  /** For a selection by seq that matched no set-aside event: what that event is instead. */
  notSetAside?: 'delivered' | 'in_outbox' | 'unknown';
}

interface Row {
  id: string;
  payload: string;
  set_aside_at: number | null;
  set_aside_kind: SetAsideKind | null;
  delivered_at: number | null;
}

/**
 * Makes set-aside suspected events due for a retry now, with their backoff started afresh, in
 * the store file at `path` (one short write transaction). Safe beside the running gate: SQLite
 * in WAL mode takes a second writer, and the gate reads the retry schedule from the store at
 * each sweep, so it retries them one at a time once its outbox is empty, within a sweep period.
 * Refused (too large) events are only reported: sending them again cannot work before
 * `mqtt.maxEventBytes` is raised, and the gate retries those that fit at its next start.
 * A store of an older schema (1 to 3, written before set-aside kinds) is migrated first, as the
 * gate does at start; it then holds no set-aside event, or those an older gate set aside.
 * @throws RidergateError `store_failed` when the file is missing, not a gate store, newer than
 *   this ridergate, or cannot be written.
 */
export async function requeueSetAside(
  path: string,
  selection: RequeueSelection,
  nowMs: number,
): Promise<RequeueResult> {
  requireStoreFile(path);
  const db = await SqliteDb.open(path).catch((err: unknown) => {
    throw storeError('open', err, path);
  });
  try {
    await db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    await checkVersion(db, path);
    return await requeueRows(db, selection, nowMs);
  } catch (err) {
    throw storeError('requeue', err, path);
  } finally {
    await db.close().catch(() => undefined);
  }
}

async function checkVersion(db: SqliteDb, path: string): Promise<void> {
  const version = await readSchemaVersion(db);
  if (!(version >= FIRST_GATE_STORE_VERSION)) {
    throw pathError(
      path,
      Number.isNaN(version)
        ? 'not a ridergate store (its schema version is not a number)'
        : 'not a ridergate store (no ridergate tables in it)',
    );
  }
  if (version > CURRENT_SCHEMA_VERSION) {
    throw pathError(
      path,
      `written by a newer ridergate (schema version ${version}; this one reads up to ` +
        `${CURRENT_SCHEMA_VERSION}): use that version's ridergate`,
    );
  }
  if (version < CURRENT_SCHEMA_VERSION) await migrate(db);
}

async function requeueRows(
  db: SqliteDb,
  selection: RequeueSelection,
  nowMs: number,
): Promise<RequeueResult> {
  await db.exec('BEGIN IMMEDIATE');
  try {
    const rows =
      'all' in selection
        ? await db.all<Row>(
            `SELECT ${COLUMNS} FROM events WHERE set_aside_at IS NOT NULL AND delivered_at IS NULL ORDER BY seq`,
          )
        : await db.all<Row>(`SELECT ${COLUMNS} FROM events WHERE seq = ?`, [selection.seq]);
    const result: RequeueResult = { requeued: [], refused: [] };
    for (const row of rows) {
      const event = JSON.parse(row.payload) as GateEvent;
      if (row.delivered_at !== null) result.notSetAside = 'delivered';
      else if (row.set_aside_at === null) result.notSetAside = 'in_outbox';
      else if (row.set_aside_kind === 'refused') {
        const bytes = Buffer.byteLength(JSON.stringify({ ...event, replay: true }));
        result.refused.push({ event, bytes });
      } else {
        await db.run(
          "UPDATE events SET set_aside_kind = 'suspected', set_aside_retries = 0, " +
            'set_aside_retry_at = ? WHERE id = ?',
          [nowMs, row.id],
        );
        result.requeued.push(event);
      }
    }
    if (!('all' in selection) && rows.length === 0) result.notSetAside = 'unknown';
    await db.exec('COMMIT');
    return result;
  } catch (err) {
    await db.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const COLUMNS = 'id, payload, set_aside_at, set_aside_kind, delivered_at';

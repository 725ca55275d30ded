import { RidergateError } from '../errors.js';
import type { EventDraft, GateEvent } from '../event.js';
import type { Logger } from '../log.js';
import {
  type CheckpointResult,
  checkpoint,
  pruneDeliveredBatch,
  pruneReplayBatch,
  pruneRevocationsBatch,
} from './housekeeping.js';
import { BUSY_TIMEOUT_MS, openStoreDb, type StoreRecovery } from './open-store.js';
import { CURRENT_SCHEMA_VERSION, LAST_SEQ_KEY } from './schema.js';
import { DEFAULT_SEQ_BLOCK, SeqCeiling } from './seq-ceiling.js';
import type { SqliteDb } from './sqlite.js';
import { storeError } from './store-errors.js';
import type {
  AsideSchedule,
  ReplayEntry,
  SetAsideCounts,
  SetAsideEvent,
  SetAsideKind,
  SetAsideStore,
  Store,
} from './types.js';

export type { CheckpointResult } from './housekeeping.js';
export type { StoreRecovery } from './open-store.js';

/** Rows deleted by one pruning transaction, per table. */
export interface PruneCounts {
  events: number;
  replay: number;
  revocations: number;
}

/** Most `?` placeholders in one `IN (...)` list; SQLite's default limit is far higher. */
const IN_CHUNK = 500;

/** The rows of the events set aside now: out of the outbox and not delivered since. */
const ASIDE_NOW = 'WHERE set_aside_at IS NOT NULL AND delivered_at IS NULL';

/** A set-aside row as read by {@link SqliteStore.nextAsideDue}. */
interface AsideRow {
  payload: string;
  set_aside_kind: SetAsideKind | null;
  set_aside_retries: number;
  set_aside_retry_at: number | null;
}

/** Names of `PRAGMA synchronous` values, by number. */
const SYNCHRONOUS_NAMES: readonly string[] = ['off', 'normal', 'full', 'extra'];

/** Durability settings of an open store. */
export interface StorePragmas {
  /** `wal` when the write-ahead log is in use. */
  journalMode: string;
  /** `full` when every commit is fsynced. */
  synchronous: string;
  busyTimeoutMs: number;
}

const UPSERT_SETTING =
  'INSERT INTO settings (key, value) VALUES (?, ?) ' +
  'ON CONFLICT (key) DO UPDATE SET value = excluded.value';

/** Choices for a {@link SqliteStore}; the defaults suit the gate daemon. */
export interface SqliteStoreOptions {
  /**
   * Move a corrupt database aside and start a fresh one at open (default true, for the
   * daemon). Tools that only read should pass false and report the error instead.
   */
  recoverCorrupt?: boolean;
  /** Seqs reserved per write of the `<path>.seq` file (default 1000). */
  seqBlockSize?: number;
  /** Time for the stamp of a moved-aside file, ms since the epoch (default `Date.now`). */
  nowMs?: () => number;
}

/**
 * The gate's {@link Store} on SQLite (WAL, synchronous FULL) through the asynchronous
 * `sqlite3` driver. All operations run one at a time in call order, so a transaction never
 * interleaves with another statement on the connection.
 *
 * Beside the database it keeps `<path>.seq`, a seq high-water mark written once per block of
 * seqs, so that seqs are never reused even when a corrupt database is replaced.
 */
export class SqliteStore implements Store, SetAsideStore {
  private readonly path: string;
  private readonly log: Logger;
  private readonly options: SqliteStoreOptions;
  private readonly ceiling: SeqCeiling;
  private db: SqliteDb | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private recovered: StoreRecovery | undefined;

  /**
   * @param path database file; its folder is created when missing.
   * @param log parent logger; the store logs as `component: 'store'`.
   */
  constructor(path: string, log: Logger, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.log = log.child({ component: 'store' });
    this.options = options;
    this.ceiling = new SeqCeiling(path, options.seqBlockSize ?? DEFAULT_SEQ_BLOCK, (c, reason) =>
      this.log.debug({ path: this.path, ceiling: c, reason }, 'seq ceiling written'),
    );
  }

  /**
   * What the last {@link open} did about a corrupt database: set when the file failed the
   * integrity check (or could not be read as a database) and was moved aside for a fresh
   * one; undefined when the file was healthy. The gate raises one `alarm` event
   * (reason `store_corrupt`) naming `movedTo`; seqs jump past `lastSeq`, explained by it.
   */
  get recovery(): StoreRecovery | undefined {
    return this.recovered;
  }

  /**
   * Checks the path, opens the file, runs `PRAGMA quick_check`, migrates the schema and sets
   * the pragmas. A corrupt file is moved aside as `<path>.corrupt-<UTC stamp>` and replaced
   * (see {@link recovery}) unless `recoverCorrupt` is false.
   * @throws RidergateError `store_failed` naming the path, the problem and what to do.
   */
  async open(): Promise<void> {
    const opened = await openStoreDb(this.path, this.ceiling, {
      recoverCorrupt: this.options.recoverCorrupt ?? true,
      nowMs: this.options.nowMs ?? Date.now,
      log: this.log,
    });
    this.recovered = opened.recovery;
    this.db = opened.db;
    this.log.info(
      { path: this.path, fromVersion: opened.fromVersion, schemaVersion: CURRENT_SCHEMA_VERSION },
      'store opened',
    );
  }

  /** Waits for pending operations, then finalizes the connection. */
  async close(): Promise<void> {
    await this.tail;
    const db = this.db;
    this.db = undefined;
    if (db === undefined) return;
    try {
      await db.close();
    } catch (err) {
      throw storeError('close', err, this.path);
    }
  }

  record(draft: EventDraft, replay?: ReplayEntry): Promise<GateEvent> {
    return this.transaction('record', async (db) => {
      const seq = await nextSeq(db);
      // The sidecar covers the seq before the seq can be committed.
      await this.ceiling.cover(seq);
      const event: GateEvent = { ...draft, seq };
      await db.run(
        'INSERT INTO events (id, seq, ts, type, reason, iss, sub, cti, payload) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          event.id,
          seq,
          event.ts,
          event.type,
          event.reason ?? null,
          event.iss ?? null,
          event.sub ?? null,
          event.cti ?? null,
          JSON.stringify(event),
        ],
      );
      if (replay !== undefined) {
        // The first use wins: a later admission must not move first_used_ms forward.
        await db.run(
          'INSERT OR IGNORE INTO replay (iss, cti, first_used_ms, exp_sec) VALUES (?, ?, ?, ?)',
          [replay.iss, replay.cti, replay.firstUsedMs, replay.expSec],
        );
      }
      return event;
    });
  }

  undelivered(limit: number): Promise<GateEvent[]> {
    return this.serial('undelivered', async (db) => {
      const rows = await db.all<{ payload: string }>(
        'SELECT payload FROM events WHERE delivered_at IS NULL AND set_aside_at IS NULL ' +
          'ORDER BY seq LIMIT ?',
        [limit],
      );
      return rows.map((row) => JSON.parse(row.payload) as GateEvent);
    });
  }

  markDelivered(ids: string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.transaction('markDelivered', async (db) => {
      const nowMs = Date.now();
      for (let start = 0; start < ids.length; start += IN_CHUNK) {
        const chunk = ids.slice(start, start + IN_CHUNK);
        await db.run(
          `UPDATE events SET delivered_at = ? WHERE delivered_at IS NULL AND id IN (${placeholders(chunk.length)})`,
          [nowMs, ...chunk],
        );
      }
    });
  }

  /**
   * Takes an undelivered event out of the outbox (field case M4): set aside as `aside.kind`,
   * with no retry made yet. It stays in the journal and retention never prunes it while it is
   * undelivered.
   */
  setAside(id: string, aside: AsideSchedule): Promise<void> {
    return this.serial('setAside', async (db) => {
      await db.run(
        'UPDATE events SET set_aside_at = ?, set_aside_kind = ?, set_aside_retries = 0, ' +
          'set_aside_retry_at = ? WHERE id = ? AND delivered_at IS NULL',
        [Date.now(), aside.kind, aside.retryAtMs ?? null, id],
      );
    });
  }

  rescheduleAside(id: string, aside: AsideSchedule & { retries: number }): Promise<void> {
    return this.serial('rescheduleAside', async (db) => {
      await db.run(
        'UPDATE events SET set_aside_kind = ?, set_aside_retries = ?, set_aside_retry_at = ? ' +
          'WHERE id = ? AND set_aside_at IS NOT NULL AND delivered_at IS NULL',
        [aside.kind, aside.retries, aside.retryAtMs ?? null, id],
      );
    });
  }

  nextAsideDue(nowMs: number, maxWaitMs: number): Promise<SetAsideEvent | undefined> {
    return this.serial('nextAsideDue', async (db) => {
      const row = await db.get<AsideRow>(
        `SELECT payload, set_aside_kind, set_aside_retries, set_aside_retry_at FROM events ${ASIDE_NOW} ` +
          "AND COALESCE(set_aside_kind, 'suspected') = 'suspected' " +
          'AND (set_aside_retry_at IS NULL OR set_aside_retry_at <= ? OR set_aside_retry_at > ?) ' +
          'ORDER BY set_aside_retry_at, seq LIMIT 1',
        [nowMs, nowMs + maxWaitMs],
      );
      return row === undefined ? undefined : asideEvent(row);
    });
  }

  refusedAside(afterSeq: number, limit: number): Promise<GateEvent[]> {
    return this.serial('refusedAside', async (db) => {
      const rows = await db.all<{ payload: string }>(
        `SELECT payload FROM events ${ASIDE_NOW} AND set_aside_kind = 'refused' AND seq > ? ` +
          'ORDER BY seq LIMIT ?',
        [afterSeq, limit],
      );
      return rows.map((row) => JSON.parse(row.payload) as GateEvent);
    });
  }

  setAsideCounts(): Promise<SetAsideCounts> {
    return this.serial('setAsideCounts', async (db) => {
      const row = await db.get<{ refused: number | null; all: number }>(
        "SELECT SUM(set_aside_kind = 'refused') AS refused, COUNT(*) AS 'all' " +
          `FROM events ${ASIDE_NOW}`,
      );
      const refused = row?.refused ?? 0;
      return { suspected: (row?.all ?? 0) - refused, refused };
    });
  }

  /** Number of events set aside now, of either kind (see {@link setAside}). */
  async setAsideCount(): Promise<number> {
    const counts = await this.setAsideCounts();
    return counts.suspected + counts.refused;
  }

  /**
   * One small pruning transaction: up to `limit` rows from each table. Deletes delivered events
   * stamped before `eventsBeforeMs` (never undelivered or set-aside ones), replay entries of
   * tokens that expired before `replayBeforeSec`, revocations that ended before `nowSec`.
   * Small transactions keep each turn in the store's queue short, so a scan's record waits
   * for one batch at most.
   */
  pruneBatch(
    cutoff: { eventsBeforeMs: number; replayBeforeSec: number; nowSec: number },
    limit: number,
  ): Promise<PruneCounts> {
    return this.transaction('prune', async (db) => ({
      events: await pruneDeliveredBatch(db, cutoff.eventsBeforeMs, limit),
      replay: await pruneReplayBatch(db, cutoff.replayBeforeSec, limit),
      revocations: await pruneRevocationsBatch(db, cutoff.nowSec, limit),
    }));
  }

  /** A WAL checkpoint in the store's queue; see {@link checkpoint} for the modes. */
  checkpoint(mode: 'passive' | 'truncate'): Promise<CheckpointResult> {
    return this.serial('checkpoint', (db) => checkpoint(db, mode, BUSY_TIMEOUT_MS));
  }

  /** The write-ahead log file beside the database. */
  get walPath(): string {
    return `${this.path}-wal`;
  }

  outboxDepth(): Promise<number> {
    return this.serial('outboxDepth', async (db) => {
      const row = await db.get<{ n: number }>(
        'SELECT COUNT(*) AS n FROM events WHERE delivered_at IS NULL AND set_aside_at IS NULL',
      );
      return row?.n ?? 0;
    });
  }

  /** Time (`ts`, ms since the epoch) of the oldest undelivered event; undefined when none. */
  oldestUndeliveredTs(): Promise<number | undefined> {
    return this.serial('oldestUndeliveredTs', async (db) => {
      const row = await db.get<{ ts: number }>(
        'SELECT ts FROM events WHERE delivered_at IS NULL AND set_aside_at IS NULL ' +
          'ORDER BY seq LIMIT 1',
      );
      return row?.ts;
    });
  }

  findReplay(iss: string, cti: string): Promise<ReplayEntry | undefined> {
    return this.serial('findReplay', async (db) => {
      const row = await db.get<{ first_used_ms: number; exp_sec: number }>(
        'SELECT first_used_ms, exp_sec FROM replay WHERE iss = ? AND cti = ?',
        [iss, cti],
      );
      if (row === undefined) return undefined;
      return { iss, cti, firstUsedMs: row.first_used_ms, expSec: row.exp_sec };
    });
  }

  isRevoked(iss: string, sub: string, cti: string, nowSec: number): Promise<boolean> {
    return this.serial('isRevoked', async (db) => {
      const row = await db.get<{ hit: number }>(
        'SELECT 1 AS hit FROM revocations WHERE iss = ? ' +
          "AND ((kind = 'sub' AND value = ?) OR (kind = 'cti' AND value = ?)) " +
          'AND (until_sec IS NULL OR until_sec > ?) LIMIT 1',
        [iss, sub, cti, nowSec],
      );
      return row !== undefined;
    });
  }

  revoke(entry: {
    iss: string;
    kind: 'sub' | 'cti';
    value: string;
    untilSec?: number;
  }): Promise<void> {
    return this.serial('revoke', async (db) => {
      await db.run(
        'INSERT INTO revocations (iss, kind, value, until_sec) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (iss, kind, value) DO UPDATE SET until_sec = excluded.until_sec',
        [entry.iss, entry.kind, entry.value, entry.untilSec ?? null],
      );
    });
  }

  getSetting(key: string): Promise<string | undefined> {
    return this.serial('getSetting', async (db) => {
      const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [
        key,
      ]);
      return row?.value;
    });
  }

  setSetting(key: string, value: string): Promise<void> {
    return this.serial('setSetting', async (db) => {
      await db.run(UPSERT_SETTING, [key, value]);
    });
  }

  /** The durability settings in force on the store's connection, for `doctor` and tests. */
  pragmas(): Promise<StorePragmas> {
    return this.serial('pragmas', async (db) => {
      const mode = await db.get<{ journal_mode: string }>('PRAGMA journal_mode');
      const sync = await db.get<{ synchronous: number }>('PRAGMA synchronous');
      const busy = await db.get<{ timeout: number }>('PRAGMA busy_timeout');
      return {
        journalMode: mode?.journal_mode ?? 'unknown',
        synchronous: SYNCHRONOUS_NAMES[sync?.synchronous ?? -1] ?? 'unknown',
        busyTimeoutMs: busy?.timeout ?? 0,
      };
    });
  }

  /**
   * Runs `fn` on the connection in the store's queue, for modules that keep their own tables
   * (command ids, revocation lists). Errors become `store_failed`.
   */
  withDb<T>(op: string, fn: (db: SqliteDb) => Promise<T>): Promise<T> {
    return this.serial(op, fn);
  }

  /** {@link withDb} inside one transaction. */
  withTransaction<T>(op: string, fn: (db: SqliteDb) => Promise<T>): Promise<T> {
    return this.transaction(op, fn);
  }

  /** Runs `fn` after every operation queued before it; errors become `store_failed`. */
  private serial<T>(op: string, fn: (db: SqliteDb) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const db = this.db;
      if (db === undefined) {
        throw new RidergateError('store_failed', `store.path ${this.path}: the store is not open`);
      }
      try {
        return await fn(db);
      } catch (err) {
        throw storeError(op, err, this.path);
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** {@link serial} inside BEGIN IMMEDIATE … COMMIT; resolves only after COMMIT. */
  private transaction<T>(op: string, fn: (db: SqliteDb) => Promise<T>): Promise<T> {
    return this.serial(op, async (db) => {
      await db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(db);
        await db.exec('COMMIT');
        return result;
      } catch (err) {
        await db.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }
}

/** Takes the next event seq from the persisted counter; call inside a transaction. */
async function nextSeq(db: SqliteDb): Promise<number> {
  const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [
    LAST_SEQ_KEY,
  ]);
  const seq = Number(row?.value ?? '0') + 1;
  await db.run(UPSERT_SETTING, [LAST_SEQ_KEY, String(seq)]);
  return seq;
}

/** A row set aside by an older ridergate has no kind: it counts as suspected. */
function asideEvent(row: AsideRow): SetAsideEvent {
  return {
    event: JSON.parse(row.payload) as GateEvent,
    kind: row.set_aside_kind ?? 'suspected',
    retries: row.set_aside_retries,
    retryAtMs: row.set_aside_retry_at ?? undefined,
  };
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

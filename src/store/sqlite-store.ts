import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RidergateError } from '../errors.js';
import type { EventDraft, GateEvent } from '../event.js';
import type { Logger } from '../log.js';
import { CURRENT_SCHEMA_VERSION, LAST_SEQ_KEY, migrate } from './schema.js';
import { SqliteDb, type SqlParam } from './sqlite.js';
import type { ReplayEntry, Store } from './types.js';

/** How long a statement waits for a lock held by another process (e.g. `ridergate events`). */
const BUSY_TIMEOUT_MS = 5_000;

/** Most `?` placeholders in one `IN (...)` list; SQLite's default limit is far higher. */
const IN_CHUNK = 500;

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

/**
 * The gate's {@link Store} on SQLite (WAL, synchronous FULL) through the asynchronous
 * `sqlite3` driver. All operations run one at a time in call order, so a transaction never
 * interleaves with another statement on the connection.
 */
export class SqliteStore implements Store {
  private readonly path: string;
  private readonly log: Logger;
  private db: SqliteDb | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * @param path database file; its folder is created when missing.
   * @param log parent logger; the store logs as `component: 'store'`.
   */
  constructor(path: string, log: Logger) {
    this.path = path;
    this.log = log.child({ component: 'store' });
  }

  /** Opens the file, sets the pragmas and migrates the schema. */
  async open(): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true });
      const db = await SqliteDb.open(this.path);
      try {
        await this.configure(db);
        const from = await migrate(db);
        this.log.info(
          { path: this.path, fromVersion: from, schemaVersion: CURRENT_SCHEMA_VERSION },
          'store opened',
        );
      } catch (err) {
        await db.close().catch(() => undefined);
        throw err;
      }
      this.db = db;
    } catch (err) {
      throw storeError('open', err, { path: this.path });
    }
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
      throw storeError('close', err);
    }
  }

  record(draft: EventDraft, replay?: ReplayEntry): Promise<GateEvent> {
    return this.transaction('record', async (db) => {
      const seq = await nextSeq(db);
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
        'SELECT payload FROM events WHERE delivered_at IS NULL ORDER BY seq LIMIT ?',
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

  outboxDepth(): Promise<number> {
    return this.serial('outboxDepth', async (db) => {
      const row = await db.get<{ n: number }>(
        'SELECT COUNT(*) AS n FROM events WHERE delivered_at IS NULL',
      );
      return row?.n ?? 0;
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

  private async configure(db: SqliteDb): Promise<void> {
    const mode = await db.get<{ journal_mode: string }>('PRAGMA journal_mode = WAL');
    if (mode?.journal_mode !== 'wal') {
      // Some filesystems cannot hold a WAL; the journal still works, with more fsyncs.
      this.log.warn({ path: this.path, journalMode: mode?.journal_mode }, 'wal not available');
    }
    await db.exec('PRAGMA synchronous = FULL');
    await db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }

  /** Runs `fn` after every operation queued before it; errors become `store_failed`. */
  private serial<T>(op: string, fn: (db: SqliteDb) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const db = this.db;
      if (db === undefined) throw new RidergateError('store_failed', 'store is not open');
      try {
        return await fn(db);
      } catch (err) {
        throw storeError(op, err);
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

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

function storeError(op: string, err: unknown, context: Record<string, SqlParam> = {}) {
  if (err instanceof RidergateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RidergateError('store_failed', `store ${op} failed: ${message}`, {
    cause: err,
    context: { op, ...context },
  });
}

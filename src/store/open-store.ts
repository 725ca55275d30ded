import type { Logger } from '../log.js';
import { moveAside, quickCheck } from './corrupt-file.js';
import { CURRENT_SCHEMA_VERSION, LAST_SEQ_KEY, migrate, readSchemaVersion } from './schema.js';
import type { SeqCeiling } from './seq-ceiling.js';
import { SqliteDb } from './sqlite.js';
import { describeCause, errorCode, isCorruption, pathError, storeError } from './store-errors.js';
import { prepareStorePath } from './store-path.js';

/** How long a statement waits for a lock held by another process (e.g. `ridergate events`). */
export const BUSY_TIMEOUT_MS = 5_000;

/** What {@link openStoreDb} did about a corrupt database file. */
export interface StoreRecovery {
  /** Where the corrupt file now is: `<path>.corrupt-<UTC stamp>` (with `-wal`, `-shm`). */
  movedTo: string;
  /** Why it was judged corrupt, e.g. `SQLITE_CORRUPT: database disk image is malformed`. */
  cause: string;
  /** The fresh database's seq counter: the next event gets `lastSeq + 1`. */
  lastSeq: number;
}

/** How {@link openStoreDb} behaves. */
export interface OpenStoreOptions {
  /** Move a corrupt file aside and start a fresh one (true), or fail (false). */
  recoverCorrupt: boolean;
  /** Time for the moved file's stamp, ms since the epoch. */
  nowMs: () => number;
  log: Logger;
}

/** An open, checked, migrated database. */
export interface OpenedStore {
  db: SqliteDb;
  fromVersion: number;
  recovery?: StoreRecovery;
}

/**
 * Opens the store at `path`: checks the path, runs `quick_check`, refuses a newer schema,
 * migrates, sets WAL and synchronous FULL, and loads the seq ceiling. A corrupt file (quick
 * check failed, SQLITE_CORRUPT, SQLITE_NOTADB) is moved aside and replaced by a fresh
 * database whose counter starts above every seq the old file may have handed out.
 * @throws RidergateError `store_failed` naming the path and the problem.
 */
export async function openStoreDb(
  path: string,
  ceiling: SeqCeiling,
  options: OpenStoreOptions,
): Promise<OpenedStore> {
  await prepareStorePath(path);
  const db = await SqliteDb.open(path).catch((err: unknown) => {
    throw storeError('open', err, path);
  });
  try {
    const fromVersion = await prepare(db, path, options.log);
    await loadCeiling(db, ceiling, path);
    return { db, fromVersion };
  } catch (err) {
    if (!isCorruption(err) || !options.recoverCorrupt) {
      await db.close().catch(() => undefined);
      throw storeError('open', err, path);
    }
    return await recover(db, path, ceiling, describeCause(err), options);
  }
}

async function prepare(db: SqliteDb, path: string, log: Logger): Promise<number> {
  await db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  await quickCheck(db);
  const found = await readSchemaVersion(db);
  if (!(found <= CURRENT_SCHEMA_VERSION)) {
    throw pathError(
      path,
      `written by a newer ridergate (schema version ${found}; this one reads up to ` +
        `${CURRENT_SCHEMA_VERSION}): upgrade ridergate, or point store.path at another file`,
      { schemaVersion: found, supported: CURRENT_SCHEMA_VERSION },
    );
  }
  const fromVersion = await migrate(db);
  const mode = await db.get<{ journal_mode: string }>('PRAGMA journal_mode = WAL');
  if (mode?.journal_mode !== 'wal') {
    // Some filesystems cannot hold a WAL; the journal still works, with more fsyncs.
    log.warn({ path, journalMode: mode?.journal_mode }, 'wal not available');
  }
  await db.exec('PRAGMA synchronous = FULL');
  return fromVersion;
}

/** Healthy file: adopt the sidecar, or rebuild it from the counter when missing or behind. */
async function loadCeiling(db: SqliteDb, ceiling: SeqCeiling, path: string): Promise<void> {
  const lastSeq = (await readLastSeq(db)) ?? 0;
  const onDisk = await ceiling.read().catch((err: unknown) => {
    throw storeError(`reading ${ceiling.path}`, err, path);
  });
  if (onDisk === undefined || onDisk < lastSeq) await ceiling.reset(lastSeq, onDisk);
  else ceiling.adopt(onDisk);
}

async function recover(
  corrupt: SqliteDb,
  path: string,
  ceiling: SeqCeiling,
  cause: string,
  options: OpenStoreOptions,
): Promise<OpenedStore> {
  // The counter may still be readable; it matters when the sidecar was lost too.
  const oldSeq = await readLastSeq(corrupt).catch(() => undefined);
  // Moved while still open: SQLite neither checkpoints into a database file that has moved
  // nor deletes its WAL on close, so the moved set stays as the power cut left it.
  const movedTo = await moveAside(path, options.nowMs()).catch(async (err: unknown) => {
    await corrupt.close().catch(() => undefined);
    const code = errorCode(err) ?? 'error';
    throw pathError(path, `the database is corrupt and cannot be moved aside (${code})`, {
      cause,
      errCode: code,
      detail: describeCause(err),
    });
  });
  await corrupt.close().catch(() => undefined);
  options.log.warn({ path, movedTo, cause }, 'store corrupt, moved aside');

  const db = await SqliteDb.open(path).catch((err: unknown) => {
    throw storeError('open', err, path);
  });
  try {
    const fromVersion = await prepare(db, path, options.log);
    const onDisk = await ceiling.read();
    const lastSeq = Math.max(onDisk ?? 0, oldSeq ?? 0);
    await db.run('UPDATE settings SET value = ? WHERE key = ?', [String(lastSeq), LAST_SEQ_KEY]);
    await ceiling.reset(lastSeq, onDisk);
    if (onDisk === undefined && oldSeq === undefined) {
      options.log.error({ path, movedTo }, 'seq restarts: no seq file and no readable counter');
    }
    return { db, fromVersion, recovery: { movedTo, cause, lastSeq } };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw storeError('open', err, path);
  }
}

/** The persisted seq counter, or undefined when the file has none (yet). */
async function readLastSeq(db: SqliteDb): Promise<number | undefined> {
  const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [
    LAST_SEQ_KEY,
  ]);
  const value = Number(row?.value);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

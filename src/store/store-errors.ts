import { statSync } from 'node:fs';
import { RidergateError } from '../errors.js';

/** SQLite result codes that mean the file's content cannot be trusted. */
const CORRUPTION_CODES: ReadonlySet<string> = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** What each driver or system error code means for the person running the gate. */
const EXPLANATIONS: Readonly<Record<string, string>> = {
  SQLITE_CANTOPEN: 'check the folder exists and the service user may write it',
  SQLITE_PERM: 'the service user may not write the file or its folder',
  SQLITE_READONLY: 'the file or its folder is read-only for the service user',
  SQLITE_FULL: 'the disk is full',
  SQLITE_IOERR: 'the storage reported an input/output error; the SD card may be failing',
  SQLITE_BUSY: 'another process holds a lock on the database',
  SQLITE_LOCKED: 'another process holds a lock on the database',
  // Found while running, corruption makes the gate's journal hold events in memory and reopen
  // the store (src/gate/resilient-journal.ts); open() then moves the bad file aside.
  SQLITE_CORRUPT: 'the database is corrupt; the gate moves it aside when it starts',
  SQLITE_NOTADB: 'the file is not a SQLite database; the gate moves it aside when it starts',
  ENOSPC: 'the disk is full',
  EACCES: 'permission denied for the service user',
  EPERM: 'permission denied for the service user',
  EROFS: 'the filesystem is read-only',
  EIO: 'the storage reported an input/output error; the SD card may be failing',
};

/** The driver's or the system's error code (`SQLITE_CORRUPT`, `ENOSPC`), if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** True when `err` says the database file is damaged or is not a database at all. */
export function isCorruption(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && CORRUPTION_CODES.has(code);
}

/** `SQLITE_CORRUPT: database disk image is malformed`, or the message of any other error. */
export function describeCause(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A `store_failed` error about the file at `path`, e.g. `store.path /x: cannot open (…)`. */
export function pathError(
  path: string,
  problem: string,
  context: Record<string, unknown> = {},
): RidergateError {
  return new RidergateError('store_failed', `store.path ${path}: ${problem}`, {
    context: { path, ...context },
  });
}

/**
 * Turns a driver or system error from operation `op` into a `store_failed` error that names
 * the file, the code and what to do, e.g.
 * `store.path /var/lib/ridergate/gate.db: cannot open (SQLITE_CANTOPEN): check the folder …`.
 *
 * The driver's error is kept in `context.detail` rather than as `cause`: pino appends every
 * cause's message to the logged message, so the same text would appear twice in the log.
 */
export function storeError(op: string, err: unknown, path: string): RidergateError {
  if (err instanceof RidergateError) return err;
  const code = errorCode(err);
  const detail = describeCause(err);
  const what = op === 'open' ? 'cannot open' : `${op} failed`;
  const explanation = code === undefined ? undefined : EXPLANATIONS[code];
  let problem: string;
  if (explanation !== undefined) problem = `${what} (${code}): ${explanation}`;
  else if (code !== undefined && detail.startsWith(code)) problem = `${what} (${detail})`;
  else problem = `${what} (${code ?? 'error'}: ${detail})`;
  return pathError(path, problem, { op, detail, ...(code === undefined ? {} : { errCode: code }) });
}

/**
 * Refuses a store file that is missing or is not a regular file (a folder, a device), before
 * SQLite opens it and reports it as an I/O error, which reads like a failing SD card.
 * For the tools that read an existing store (`events`, `events requeue`), not for the gate,
 * which creates its store.
 * @throws RidergateError `store_failed` naming the path and what to give instead.
 */
export function requireStoreFile(path: string): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) throw pathError(path, 'no such file; check store.path or --store');
  if (stat.isDirectory())
    throw pathError(path, 'is a folder; give the database file in it (e.g. ridergate.db)');
  if (!stat.isFile()) throw pathError(path, 'not a regular file; give the database file');
}

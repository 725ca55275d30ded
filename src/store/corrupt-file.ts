import { lstat, rename } from 'node:fs/promises';
import type { SqliteDb } from './sqlite.js';
import { errorCode } from './store-errors.js';

/** Most integrity problems `quick_check` lists before stopping: one is enough to decide. */
const QUICK_CHECK_MAX_ERRORS = 1;

/** Longest `quick_check` report kept in a cause, in characters. */
const CAUSE_MAX_CHARS = 200;

/** A database that failed `PRAGMA quick_check`; coded like the driver's own corruption. */
export class IntegrityError extends Error {
  readonly code = 'SQLITE_CORRUPT';
}

/**
 * Runs `PRAGMA quick_check` (every page and b-tree, not index contents: O(size), a few seconds
 * for a large journal on an SD card, which is acceptable once at start).
 * @throws IntegrityError with the first problem found; the driver's SQLITE_CORRUPT or
 *   SQLITE_NOTADB when the file cannot even be read as a database.
 */
export async function quickCheck(db: SqliteDb): Promise<void> {
  const row = await db.get<{ quick_check: string }>(
    `PRAGMA quick_check(${QUICK_CHECK_MAX_ERRORS})`,
  );
  const report = row?.quick_check ?? 'no result';
  if (report !== 'ok') {
    const oneLine = report.replace(/\s+/g, ' ').trim();
    throw new IntegrityError(`quick_check: ${oneLine.slice(0, CAUSE_MAX_CHARS)}`);
  }
}

/** `20261203T154100Z` for the given time. */
export function utcStamp(nowMs: number): string {
  return new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Renames the database and its `-wal` and `-shm` files to `<path>.corrupt-<UTC stamp>` (then
 * `-wal`, `-shm`), so SQLite can still open the moved copy for forensics. A name already taken
 * gets `-2`, `-3`, … The WAL and shared-memory files go first: a stale WAL left beside a
 * fresh database would be replayed into it.
 * @returns the new path of the database file.
 * @throws Error from the filesystem.
 */
export async function moveAside(path: string, nowMs: number): Promise<string> {
  const base = `${path}.corrupt-${utcStamp(nowMs)}`;
  let target = base;
  for (let n = 2; await exists(target); n++) target = `${base}-${n}`;
  for (const suffix of ['-wal', '-shm']) {
    try {
      await rename(`${path}${suffix}`, `${target}${suffix}`);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  }
  await rename(path, target);
  return target;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

import type { SqliteDb } from './sqlite.js';

/** How a WAL checkpoint went: SQLite's `PRAGMA wal_checkpoint` row. */
export interface CheckpointResult {
  /** True when a reader or writer kept the checkpoint from finishing. */
  busy: boolean;
  /** Frames in the WAL before the checkpoint. */
  walFrames: number;
  /** Frames copied into the database file. */
  checkpointedFrames: number;
}

/**
 * Deletes up to `limit` delivered events stamped before `beforeMs`, oldest first. Undelivered
 * and set-aside events are never touched. Call inside a transaction.
 * @returns the number of events deleted.
 */
export async function pruneDeliveredBatch(
  db: SqliteDb,
  beforeMs: number,
  limit: number,
): Promise<number> {
  const result = await db.run(
    'DELETE FROM events WHERE rowid IN (SELECT rowid FROM events ' +
      'WHERE ts < ? AND delivered_at IS NOT NULL ORDER BY ts LIMIT ?)',
    [beforeMs, limit],
  );
  return result.changes;
}

/** Deletes up to `limit` replay entries whose token expired before `beforeSec`. */
export async function pruneReplayBatch(
  db: SqliteDb,
  beforeSec: number,
  limit: number,
): Promise<number> {
  const result = await db.run(
    'DELETE FROM replay WHERE rowid IN (SELECT rowid FROM replay WHERE exp_sec < ? LIMIT ?)',
    [beforeSec, limit],
  );
  return result.changes;
}

/** Deletes up to `limit` revocations whose end time is before `beforeSec`; open-ended ones stay. */
export async function pruneRevocationsBatch(
  db: SqliteDb,
  beforeSec: number,
  limit: number,
): Promise<number> {
  const result = await db.run(
    'DELETE FROM revocations WHERE rowid IN (SELECT rowid FROM revocations ' +
      'WHERE until_sec IS NOT NULL AND until_sec < ? LIMIT ?)',
    [beforeSec, limit],
  );
  return result.changes;
}

/**
 * Runs `PRAGMA wal_checkpoint(PASSIVE)` or `(TRUNCATE)`.
 *
 * TRUNCATE runs with the busy timeout set to 0 for its duration and restored after: with a
 * busy handler, TRUNCATE waits for every reader to leave the WAL and blocks writers while it
 * waits (sqlite.org/pragma.html#pragma_wal_checkpoint), so a `ridergate events` export holding
 * a read transaction would hold the next scan's journal write for up to the busy timeout.
 * Without one it gives up at once (busy) and the next round tries again.
 */
export async function checkpoint(
  db: SqliteDb,
  mode: 'passive' | 'truncate',
  busyTimeoutMs: number,
): Promise<CheckpointResult> {
  if (mode === 'passive') return readCheckpoint(db, 'PRAGMA wal_checkpoint(PASSIVE)');
  await db.exec('PRAGMA busy_timeout = 0');
  try {
    return await readCheckpoint(db, 'PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  }
}

async function readCheckpoint(db: SqliteDb, sql: string): Promise<CheckpointResult> {
  const row = await db.get<{ busy: number; log: number; checkpointed: number }>(sql);
  return {
    busy: (row?.busy ?? 0) !== 0,
    walFrames: row?.log ?? 0,
    checkpointedFrames: row?.checkpointed ?? 0,
  };
}

import type { RevocationEntry } from '../command/command-types.js';
import type { SqliteDb, SqlParam } from '../store/sqlite.js';

/** What the revocation list needs of the store: a {@link SqliteStore} has it. */
export interface RevocationStore {
  withDb<T>(op: string, fn: (db: SqliteDb) => Promise<T>): Promise<T>;
  withTransaction<T>(op: string, fn: (db: SqliteDb) => Promise<T>): Promise<T>;
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
}

/** Settings keys of the list's state. */
export const REVOCATION_SETTINGS = {
  seq: 'revocations.seq',
  waiting: 'revocations.waiting',
  updatedTs: 'revocations.updated_ts',
} as const;

/** Rows read or written per statement; each page is its own turn in the store's queue. */
const PAGE_ROWS = 20_000;
/** Rows per INSERT: 4 parameters each stays under SQLite's 999-parameter floor. */
const INSERT_ROWS = 200;

const UPSERT = ' ON CONFLICT (iss, kind, value) DO UPDATE SET until_sec = excluded.until_sec';

/**
 * Reads every stored revocation, page by page (so a scan waits for one page at most), and
 * hands each to `each`.
 */
export async function loadRevocations(
  store: RevocationStore,
  each: (iss: string, kind: 'sub' | 'cti', value: string, untilSec: number | null) => void,
): Promise<number> {
  let after = 0;
  let total = 0;
  for (;;) {
    const rows = await store.withDb('loadRevocations', (db) =>
      db.all<{
        id: number;
        iss: string;
        kind: 'sub' | 'cti';
        value: string;
        until_sec: number | null;
      }>(
        'SELECT rowid AS id, iss, kind, value, until_sec FROM revocations WHERE rowid > ? ORDER BY rowid LIMIT ?',
        [after, PAGE_ROWS],
      ),
    );
    for (const r of rows) each(r.iss, r.kind, r.value, r.until_sec);
    total += rows.length;
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE_ROWS) return total;
    after = last.id;
  }
}

/**
 * Replaces the stored list with a snapshot: written into `revocations_next` in small
 * transactions, then swapped in (with the new seq) in one short transaction, so the store
 * never holds half a list and scans never wait behind a million inserts.
 */
export async function replaceRevocations(
  store: RevocationStore,
  entries: readonly RevocationEntry[],
  settings: Record<string, string>,
): Promise<void> {
  await store.withDb('stageRevocations', async (db) => {
    await db.exec('DROP TABLE IF EXISTS revocations_next');
    await db.exec(
      'CREATE TABLE revocations_next (iss TEXT NOT NULL, ' +
        "kind TEXT NOT NULL CHECK (kind IN ('sub', 'cti')), value TEXT NOT NULL, " +
        'until_sec INTEGER, PRIMARY KEY (iss, kind, value))',
    );
  });
  for (let i = 0; i < entries.length; i += PAGE_ROWS) {
    const page = entries.slice(i, i + PAGE_ROWS);
    await store.withTransaction('stageRevocations', (db) =>
      insertRows(db, 'revocations_next', page),
    );
  }
  await store.withTransaction('swapRevocations', async (db) => {
    await db.exec('DROP TABLE revocations');
    await db.exec('ALTER TABLE revocations_next RENAME TO revocations');
    await writeSettings(db, settings);
  });
}

/** Applies a delta (and its settings) in one transaction. */
export function applyRevocationDelta(
  store: RevocationStore,
  add: readonly RevocationEntry[],
  remove: readonly RevocationEntry[],
  settings: Record<string, string>,
): Promise<void> {
  return store.withTransaction('revocationDelta', async (db) => {
    for (const e of remove) await deleteRow(db, e);
    await insertRows(db, 'revocations', add);
    await writeSettings(db, settings);
  });
}

/** Removes one entry (the `unrevoke` command). */
export function deleteRevocation(store: RevocationStore, e: RevocationEntry): Promise<void> {
  return store.withDb('unrevoke', (db) => deleteRow(db, e));
}

/** Adds or updates one entry (the `revoke` command). */
export function saveRevocation(store: RevocationStore, e: RevocationEntry): Promise<void> {
  return store.withDb('revoke', (db) => insertRows(db, 'revocations', [e]));
}

async function deleteRow(db: SqliteDb, e: RevocationEntry): Promise<void> {
  await db.run('DELETE FROM revocations WHERE iss = ? AND kind = ? AND value = ?', [
    e.iss,
    e.kind,
    e.value,
  ]);
}

async function insertRows(
  db: SqliteDb,
  table: string,
  rows: readonly RevocationEntry[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_ROWS) {
    const chunk = rows.slice(i, i + INSERT_ROWS);
    const params: SqlParam[] = [];
    for (const e of chunk) params.push(e.iss, e.kind, e.value, e.untilSec ?? null);
    const values = chunk.map(() => '(?, ?, ?, ?)').join(', ');
    await db.run(
      `INSERT INTO ${table} (iss, kind, value, until_sec) VALUES ${values}${UPSERT}`,
      params,
    );
  }
}

async function writeSettings(db: SqliteDb, settings: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(settings)) {
    await db.run(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }
}

import type { EventType, GateEvent } from '../event.js';
import { SqliteDb, type SqlParam } from './sqlite.js';
import { pathError, requireStoreFile, storeError } from './store-errors.js';
import type { SetAsideKind } from './types.js';

/** Which journal rows to read. Times are ms since the epoch, `until` exclusive. */
export interface JournalFilter {
  sinceMs?: number;
  untilMs?: number;
  types?: EventType[];
  sub?: string;
  /** Only events set aside now (out of the outbox, undelivered). */
  setAside?: boolean;
}

/** A journaled event and when the broker acknowledged it (undefined: still in the outbox). */
export interface JournalRow {
  event: GateEvent;
  deliveredAt?: number;
  /** Set while the event is set aside, out of the outbox (field case M4). */
  setAside?: JournalSetAside;
}

/** Why and since when an event is set aside, and its retry state. */
export interface JournalSetAside {
  kind: SetAsideKind;
  /** When it was set aside, ms since the epoch. */
  atMs: number;
  /** Failed retries since then. */
  retries: number;
  /** Next retry of a suspected event, ms since the epoch. */
  retryAtMs?: number;
}

interface Row {
  seq: number;
  payload: string;
  delivered_at: number | null;
  set_aside_at: number | null;
  set_aside_kind: SetAsideKind | null;
  set_aside_retries: number | null;
  set_aside_retry_at: number | null;
}

/** Rows fetched per query; memory stays bounded by this whatever the journal's size. */
const PAGE_ROWS = 500;

/**
 * Reads the journal of a store file in seq order, a page at a time (keyset pagination on seq),
 * read-only, so it can run beside the daemon and a year of events never sits in memory.
 * @throws RidergateError `store_failed` when the file is missing, not a gate store, or cannot be
 *   opened or read; the first `next()` throws it, before any row.
 */
export async function* readJournal(
  path: string,
  filter: JournalFilter = {},
): AsyncGenerator<JournalRow> {
  requireStoreFile(path);
  let db: SqliteDb;
  try {
    db = await SqliteDb.open(path, true);
  } catch (err) {
    throw storeError('open', err, path);
  }
  try {
    const columns = await selectColumns(db, path);
    const { where, params } = whereClause(filter, columns.setAsideKnown);
    let afterSeq = -1;
    for (;;) {
      const rows = await db
        .all<Row>(
          `SELECT ${columns.list} FROM events WHERE seq > ?${where} ORDER BY seq LIMIT ${PAGE_ROWS}`,
          [afterSeq, ...params],
        )
        .catch((err: unknown) => {
          throw storeError('read', err, path);
        });
      for (const row of rows) yield journalRow(row);
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE_ROWS) return;
      afterSeq = last.seq;
    }
  } finally {
    await db.close().catch(() => undefined);
  }
}

/**
 * The columns to read: a store not yet opened by this version (read-only here, so never
 * migrated) lacks the set-aside ones, which then read as NULL.
 */
async function selectColumns(
  db: SqliteDb,
  path: string,
): Promise<{ list: string; setAsideKnown: boolean }> {
  const names = await db
    .all<{ name: string }>("SELECT name FROM pragma_table_info('events')")
    .catch((err: unknown) => {
      throw storeError('read', err, path);
    });
  if (names.length === 0) throw pathError(path, 'not a ridergate store (it has no events table)');
  const present = new Set(names.map((n) => n.name));
  const list = ['seq', 'payload', 'delivered_at', ...SET_ASIDE_COLUMNS]
    .map((c) => (present.has(c) ? c : `NULL AS ${c}`))
    .join(', ');
  return { list, setAsideKnown: present.has('set_aside_at') };
}

const SET_ASIDE_COLUMNS = [
  'set_aside_at',
  'set_aside_kind',
  'set_aside_retries',
  'set_aside_retry_at',
] as const;

function journalRow(row: Row): JournalRow {
  const event = JSON.parse(row.payload) as GateEvent;
  if (row.delivered_at !== null) return { event, deliveredAt: row.delivered_at };
  if (row.set_aside_at === null) return { event };
  const setAside: JournalSetAside = {
    // Set aside by a ridergate before kinds existed: retried as suspected.
    kind: row.set_aside_kind ?? 'suspected',
    atMs: row.set_aside_at,
    retries: row.set_aside_retries ?? 0,
  };
  if (row.set_aside_retry_at !== null) setAside.retryAtMs = row.set_aside_retry_at;
  return { event, setAside };
}

function whereClause(
  filter: JournalFilter,
  setAsideKnown: boolean,
): { where: string; params: SqlParam[] } {
  const parts: string[] = [];
  const params: SqlParam[] = [];
  if (filter.setAside === true) {
    parts.push(setAsideKnown ? 'set_aside_at IS NOT NULL AND delivered_at IS NULL' : '0');
  }
  if (filter.sinceMs !== undefined) {
    parts.push('ts >= ?');
    params.push(filter.sinceMs);
  }
  if (filter.untilMs !== undefined) {
    parts.push('ts < ?');
    params.push(filter.untilMs);
  }
  if (filter.types !== undefined && filter.types.length > 0) {
    parts.push(`type IN (${filter.types.map(() => '?').join(', ')})`);
    params.push(...filter.types);
  }
  if (filter.sub !== undefined) {
    parts.push('sub = ?');
    params.push(filter.sub);
  }
  return { where: parts.map((p) => ` AND ${p}`).join(''), params };
}

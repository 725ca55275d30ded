import { RidergateError } from '../errors.js';
import type { EventType, GateEvent } from '../event.js';
import { SqliteDb, type SqlParam } from './sqlite.js';

/** Which journal rows to read. Times are ms since the epoch, `until` exclusive. */
export interface JournalFilter {
  sinceMs?: number;
  untilMs?: number;
  types?: EventType[];
  sub?: string;
}

/** A journaled event and when the broker acknowledged it (undefined: still in the outbox). */
export interface JournalRow {
  event: GateEvent;
  deliveredAt?: number;
}

/** Rows fetched per query; memory stays bounded by this whatever the journal's size. */
const PAGE_ROWS = 500;

/**
 * Reads the journal of a store file in seq order, a page at a time (keyset pagination on seq),
 * read-only, so it can run beside the daemon and a year of events never sits in memory.
 * @throws RidergateError `store_failed` when the file cannot be opened or read.
 */
export async function* readJournal(
  path: string,
  filter: JournalFilter = {},
): AsyncGenerator<JournalRow> {
  let db: SqliteDb;
  try {
    db = await SqliteDb.open(path, true);
  } catch (err) {
    throw new RidergateError(
      'store_failed',
      `${path}: cannot open the journal (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: err },
    );
  }
  try {
    const { where, params } = whereClause(filter);
    let afterSeq = -1;
    for (;;) {
      const rows = await db
        .all<{ seq: number; payload: string; delivered_at: number | null }>(
          `SELECT seq, payload, delivered_at FROM events WHERE seq > ?${where} ORDER BY seq LIMIT ${PAGE_ROWS}`,
          [afterSeq, ...params],
        )
        .catch((err: unknown) => {
          throw new RidergateError('store_failed', `${path}: cannot read the journal`, {
            cause: err,
          });
        });
      for (const row of rows) {
        const event = JSON.parse(row.payload) as GateEvent;
        yield row.delivered_at === null ? { event } : { event, deliveredAt: row.delivered_at };
      }
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE_ROWS) return;
      afterSeq = last.seq;
    }
  } finally {
    await db.close().catch(() => undefined);
  }
}

function whereClause(filter: JournalFilter): { where: string; params: SqlParam[] } {
  const parts: string[] = [];
  const params: SqlParam[] = [];
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

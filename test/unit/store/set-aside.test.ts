import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRidergateError } from '../../../src/errors.js';
import type { GateEvent } from '../../../src/event.js';
import { silentLogger } from '../../../src/log.js';
import { requeueSetAside } from '../../../src/store/aside-requeue.js';
import { type JournalRow, readJournal } from '../../../src/store/journal-reader.js';
import { CURRENT_SCHEMA_VERSION, migrate } from '../../../src/store/schema.js';
import { SqliteDb } from '../../../src/store/sqlite.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { draft } from './store-helpers.js';

const NOW = Date.parse('2026-12-01T08:00:00Z');
const MIN_MS = 60_000;
const DAY_MS = 86_400_000;

let dir: string;
let path: string;
let store: SqliteStore | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-aside-'));
  path = join(dir, 'gate.db');
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function openStore(): Promise<SqliteStore> {
  await store?.close();
  store = new SqliteStore(path, silentLogger());
  await store.open();
  return store;
}

async function journal(filter: { setAside?: boolean } = {}): Promise<JournalRow[]> {
  const rows: JournalRow[] = [];
  for await (const row of readJournal(path, filter)) rows.push(row);
  return rows;
}

/**
 * A store file as ridergate wrote it before set-aside kinds (schema 3): four events, the second
 * set aside (by the old rule, for good), the first delivered.
 */
async function writeSchema3File(): Promise<GateEvent[]> {
  const db = await SqliteDb.open(path);
  await migrate(db, 3);
  const events: GateEvent[] = [];
  for (let seq = 1; seq <= 4; seq++) {
    const event: GateEvent = { ...draft({ ts: NOW - DAY_MS + seq }), seq };
    await db.run(
      'INSERT INTO events (id, seq, ts, type, payload, delivered_at, set_aside_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?)',
      [
        event.id,
        seq,
        event.ts,
        event.type,
        JSON.stringify(event),
        seq === 1 ? NOW - DAY_MS : null,
        seq === 2 ? NOW - DAY_MS : null,
      ],
    );
    events.push(event);
  }
  await db.run("UPDATE settings SET value = '4' WHERE key = 'events.last_seq'");
  await db.close();
  return events;
}

describe('set-aside events in the store (field case M4)', () => {
  it('keeps an old database working: its set-aside event becomes suspected and due at once', async () => {
    const [delivered, aside, waiting] = await writeSchema3File();

    // `ridergate events` reads the old file as it is (read-only, never migrated).
    const before = await journal();
    expect(before.map((r) => r.setAside?.kind)).toEqual([
      undefined,
      'suspected',
      undefined,
      undefined,
    ]);

    const s = await openStore();
    expect(await s.getSetting('schema_version')).toBe(String(CURRENT_SCHEMA_VERSION));
    expect((await s.undelivered(10)).map((e) => e.seq)).toEqual([3, 4]);
    expect(await s.outboxDepth()).toBe(2);
    expect(await s.setAsideCounts()).toEqual({ suspected: 1, refused: 0 });
    const due = await s.nextAsideDue(NOW, DAY_MS);
    expect(due).toMatchObject({ kind: 'suspected', retries: 0, event: { id: aside?.id } });

    // It goes on as a new file would: new events get the next seqs, delivery works.
    expect((await s.record(draft())).seq).toBe(5);
    await s.markDelivered([waiting?.id ?? '', aside?.id ?? '']);
    expect(await s.setAsideCounts()).toEqual({ suspected: 0, refused: 0 });
    const after = await journal();
    expect(after.find((r) => r.event.id === delivered?.id)?.deliveredAt).toBe(NOW - DAY_MS);
    expect(after.find((r) => r.event.id === aside?.id)?.deliveredAt).toBeTypeOf('number');
  });

  it('keeps the kind and retry schedule across close and reopen', async () => {
    let s = await openStore();
    const suspected = await s.record(draft());
    const refused = await s.record(draft());
    const waiting = await s.record(draft());
    await s.setAside(suspected.id, { kind: 'suspected', retryAtMs: NOW + 10 * MIN_MS });
    await s.setAside(refused.id, { kind: 'refused' });

    s = await openStore();
    expect((await s.undelivered(10)).map((e) => e.id)).toEqual([waiting.id]);
    expect(await s.setAsideCounts()).toEqual({ suspected: 1, refused: 1 });
    expect(await s.nextAsideDue(NOW + 9 * MIN_MS, DAY_MS)).toBeUndefined();
    expect(await s.nextAsideDue(NOW + 10 * MIN_MS, DAY_MS)).toMatchObject({
      event: { id: suspected.id },
      retries: 0,
      retryAtMs: NOW + 10 * MIN_MS,
    });
    expect((await s.refusedAside(0, 10)).map((e) => e.id)).toEqual([refused.id]);

    await s.rescheduleAside(suspected.id, {
      kind: 'suspected',
      retries: 1,
      retryAtMs: NOW + 30 * MIN_MS,
    });
    s = await openStore();
    expect(await s.nextAsideDue(NOW + 29 * MIN_MS, DAY_MS)).toBeUndefined();
    // A retry time further off than the longest wait comes from a wrong clock: due now.
    expect(await s.nextAsideDue(NOW - 2 * DAY_MS, DAY_MS)).toMatchObject({ retries: 1 });

    const rows = await journal({ setAside: true });
    expect(rows.map((r) => r.setAside)).toEqual([
      { kind: 'suspected', atMs: expect.any(Number), retries: 1, retryAtMs: NOW + 30 * MIN_MS },
      { kind: 'refused', atMs: expect.any(Number), retries: 0 },
    ]);
  });

  it('requeue makes suspected events due now beside an open store, and leaves refused ones', async () => {
    const s = await openStore();
    const suspected = await s.record(draft());
    const refused = await s.record(draft({ sub: `rider-${'x'.repeat(3_000)}` }));
    const delivered = await s.record(draft());
    await s.setAside(suspected.id, { kind: 'suspected', retryAtMs: NOW + DAY_MS });
    await s.rescheduleAside(suspected.id, {
      kind: 'suspected',
      retries: 5,
      retryAtMs: NOW + DAY_MS,
    });
    await s.setAside(refused.id, { kind: 'refused' });
    await s.markDelivered([delivered.id]);

    // The gate's store stays open, as while the gate runs.
    const result = await requeueSetAside(path, { all: true }, NOW);
    expect(result.requeued.map((e) => e.seq)).toEqual([suspected.seq]);
    expect(result.refused.map((r) => r.event.seq)).toEqual([refused.seq]);
    expect(result.refused[0]?.bytes).toBeGreaterThan(3_000);
    expect(await s.nextAsideDue(NOW, DAY_MS)).toMatchObject({
      event: { id: suspected.id },
      retries: 0,
      retryAtMs: NOW,
    });
    expect(await s.setAsideCounts()).toEqual({ suspected: 1, refused: 1 });

    expect((await requeueSetAside(path, { seq: delivered.seq }, NOW)).notSetAside).toBe(
      'delivered',
    );
    expect((await requeueSetAside(path, { seq: 99 }, NOW)).notSetAside).toBe('unknown');
    const one = await requeueSetAside(path, { seq: suspected.seq }, NOW + MIN_MS);
    expect(one.requeued.map((e) => e.seq)).toEqual([suspected.seq]);
  });

  it('requeue migrates a schema 1 or 3 file and refuses a missing or foreign one', async () => {
    const [, aside] = await writeSchema3File();
    const result = await requeueSetAside(path, { all: true }, NOW);
    expect(result.requeued.map((e) => e.id)).toEqual([aside?.id]);
    const s = await openStore();
    expect(await s.nextAsideDue(NOW, DAY_MS)).toMatchObject({ event: { id: aside?.id } });

    // The first schema (before anything was set aside) holds nothing to requeue.
    const oldest = join(dir, 'schema1.db');
    const db = await SqliteDb.open(oldest);
    await migrate(db, 1);
    await db.close();
    expect(await requeueSetAside(oldest, { all: true }, NOW)).toEqual({
      requeued: [],
      refused: [],
    });
    expect((await requeueSetAside(oldest, { seq: 1 }, NOW)).notSetAside).toBe('unknown');

    const empty = join(dir, 'empty.db');
    await (await SqliteDb.open(empty)).close();
    const notGate = await requeueSetAside(empty, { all: true }, NOW).catch((err: unknown) => err);
    expect((notGate as Error).message).toContain('empty.db: not a ridergate store');

    const missing = await requeueSetAside(join(dir, 'none.db'), { all: true }, NOW).catch(
      (err: unknown) => err,
    );
    expect(isRidergateError(missing, 'store_failed')).toBe(true);
    expect((missing as Error).message).toContain('none.db: no such file');
  });
});

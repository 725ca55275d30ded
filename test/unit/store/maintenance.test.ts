import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { StoreMaintenance } from '../../../src/store/maintenance.js';
import { SqliteDb } from '../../../src/store/sqlite.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { draft } from './store-helpers.js';

const DAY_MS = 86_400_000;
const NOW_MS = 1_800_000_000_000;

let dir: string;
let path: string;
let store: SqliteStore;
let reader: SqliteDb | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-maint-'));
  path = join(dir, 'gate.db');
  store = new SqliteStore(path, silentLogger());
  await store.open();
});

afterEach(async () => {
  await reader?.close();
  reader = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function maintenance(overrides: Partial<ConstructorParameters<typeof StoreMaintenance>[2]> = {}) {
  return new StoreMaintenance(store, silentLogger(), {
    retentionDays: 30,
    nowMs: () => NOW_MS,
    prunePauseMs: 1,
    ...overrides,
  });
}

async function recordAt(tsMs: number, delivered: boolean): Promise<string> {
  const event = await store.record(draft({ ts: tsMs }));
  if (delivered) await store.markDelivered([event.id]);
  return event.id;
}

async function remainingIds(): Promise<string[]> {
  const rows = await store.undelivered(10_000);
  const probe = await SqliteDb.open(path, true);
  const all = await probe.all<{ id: string }>('SELECT id FROM events ORDER BY seq');
  await probe.close();
  expect(rows.length).toBeLessThanOrEqual(all.length);
  return all.map((r) => r.id);
}

describe('StoreMaintenance pruning', () => {
  it('deletes only delivered events older than retentionDays, in batches; undelivered and set-aside stay', async () => {
    const old = NOW_MS - 31 * DAY_MS;
    const oldDelivered: string[] = [];
    for (let i = 0; i < 23; i++) oldDelivered.push(await recordAt(old + i, true));
    const oldUndelivered = await recordAt(old, false);
    const oldSetAside = await recordAt(old, false);
    await store.setAside(oldSetAside, { kind: 'refused' });
    const recentDelivered = await recordAt(NOW_MS - 29 * DAY_MS, true);
    const recentUndelivered = await recordAt(NOW_MS - DAY_MS, false);

    const totals = await maintenance({ pruneBatchRows: 10 }).prune();

    expect(totals.events).toBe(23);
    expect(totals.batches).toBe(3);
    expect(await remainingIds()).toEqual([
      oldUndelivered,
      oldSetAside,
      recentDelivered,
      recentUndelivered,
    ]);
    expect(await store.outboxDepth()).toBe(2);
    // seqs are never reused after pruning.
    const next = await store.record(draft({ ts: NOW_MS }));
    expect(next.seq).toBe(28);
  });

  it('deletes replay entries of long-expired tokens and revocations whose end passed', async () => {
    const nowSec = NOW_MS / 1000;
    const replayOf = (cti: string, expSec: number) => ({
      iss: 'eats',
      cti,
      firstUsedMs: NOW_MS - DAY_MS,
      expSec,
    });
    await store.record(draft({ ts: NOW_MS }), replayOf('aa', nowSec - 2 * 3_600));
    await store.record(draft({ ts: NOW_MS }), replayOf('bb', nowSec - 60));
    await store.record(draft({ ts: NOW_MS }), replayOf('cc', nowSec + 60));
    await store.revoke({ iss: 'eats', kind: 'sub', value: 'ended', untilSec: nowSec - 1 });
    await store.revoke({ iss: 'eats', kind: 'sub', value: 'later', untilSec: nowSec + 600 });
    await store.revoke({ iss: 'eats', kind: 'sub', value: 'forever' });

    const totals = await maintenance().prune();

    expect(totals).toMatchObject({ replay: 1, revocations: 1 });
    expect(await store.findReplay('eats', 'aa')).toBeUndefined();
    // Just expired: kept an hour in case the clock steps back.
    expect(await store.findReplay('eats', 'bb')).toBeDefined();
    expect(await store.findReplay('eats', 'cc')).toBeDefined();
    expect(await store.isRevoked('eats', 'later', 'x', nowSec)).toBe(true);
    expect(await store.isRevoked('eats', 'forever', 'x', nowSec)).toBe(true);
  });

  it('runs a first round at start and stops cleanly', async () => {
    await recordAt(NOW_MS - 40 * DAY_MS, true);
    const m = maintenance();
    m.start();
    await waitFor(async () => (await remainingIds()).length === 0);
    await m.stop();
  });
});

describe('StoreMaintenance WAL checkpoints (D3)', () => {
  it('keeps the WAL under its bound with a reader connection open while events are written', async () => {
    const walMaxBytes = 512 * 1024;
    const m = maintenance({ walMaxBytes });
    reader = await SqliteDb.open(path, true);

    // The reader holds a snapshot: no checkpoint can pass it and the WAL grows.
    await reader.exec('BEGIN');
    await reader.get('SELECT COUNT(*) AS n FROM events');
    for (let i = 0; i < 1_000; i++) await store.record(draft({ ts: NOW_MS }));
    const grown = statSync(store.walPath).size;
    expect(grown).toBeGreaterThan(walMaxBytes);
    // While the snapshot is held, a truncating checkpoint gives up at once, not after the busy
    // timeout (5 s), and a scan's record is not held up behind it.
    const startedMs = performance.now();
    const [, recorded] = await Promise.all([m.checkpoint(), store.record(draft())]);
    expect(performance.now() - startedMs).toBeLessThan(1_000);
    expect(recorded.seq).toBe(1_001);
    await reader.exec('COMMIT');

    // The reader stays open (as `ridergate events` beside the daemon) and keeps reading.
    let largest = 0;
    for (let round = 0; round < 10; round++) {
      const after = await m.checkpoint();
      largest = Math.max(largest, after ?? Number.POSITIVE_INFINITY);
      for (let i = 0; i < 150; i++) await store.record(draft({ ts: NOW_MS }));
      await reader.get('SELECT COUNT(*) AS n FROM events');
    }
    expect(largest).toBeLessThanOrEqual(walMaxBytes);
    await m.checkpoint();
    expect(statSync(store.walPath).size).toBeLessThanOrEqual(walMaxBytes);
  }, 60_000);
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

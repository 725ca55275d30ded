import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRidergateError } from '../../../src/errors.js';
import type { EventDraft } from '../../../src/event.js';
import { silentLogger } from '../../../src/log.js';
import { CURRENT_SCHEMA_VERSION } from '../../../src/store/schema.js';
import { SqliteDb } from '../../../src/store/sqlite.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';

let dir: string;
let path: string;
let store: SqliteStore;
let idCounter = 0;

function draft(overrides: Partial<EventDraft> = {}): EventDraft {
  idCounter += 1;
  return {
    id: `0190a000-0000-7000-8000-${String(idCounter).padStart(12, '0')}`,
    ts: 1_700_000_000_000 + idCounter,
    clock: 'synced',
    site: 'north',
    gate: 'g1',
    type: 'admit',
    iss: 'rider.example',
    sub: 'rider-42',
    cti: 'a1b2',
    decisionUs: 850,
    ...overrides,
  };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-store-'));
  path = join(dir, 'nested', 'folder', 'gate.db');
  store = new SqliteStore(path, silentLogger());
  await store.open();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore', () => {
  it('creates the missing parent folder and sets WAL with synchronous FULL', async () => {
    await store.close();
    store = new SqliteStore(path, silentLogger());
    await store.open();
    // WAL is a property of the file: a second connection sees it too.
    const probe = await SqliteDb.open(path);
    const mode = await probe.get<{ journal_mode: string }>('PRAGMA journal_mode');
    await probe.close();
    expect(mode?.journal_mode).toBe('wal');
    // synchronous and busy_timeout belong to the connection: read the store's own.
    const pragmas = await store.pragmas();
    expect(pragmas).toMatchObject({ journalMode: 'wal', synchronous: 'full' });
    expect(pragmas.busyTimeoutMs).toBeGreaterThan(0);
    expect(await store.getSetting('schema_version')).toBe(String(CURRENT_SCHEMA_VERSION));
  });

  it('gives consecutive seqs that survive close and reopen', async () => {
    const first = await store.record(draft());
    const second = await store.record(draft());
    expect([first.seq, second.seq]).toEqual([1, 2]);

    await store.close();
    store = new SqliteStore(path, silentLogger());
    await store.open();
    const third = await store.record(draft());
    expect(third.seq).toBe(3);
  });

  it('never reuses a seq even when the events are deleted', async () => {
    await store.record(draft());
    await store.record(draft());
    await store.close();
    const raw = await SqliteDb.open(path);
    await raw.run('DELETE FROM events');
    await raw.close();

    store = new SqliteStore(path, silentLogger());
    await store.open();
    expect((await store.record(draft())).seq).toBe(3);
  });

  it('returns the event as recorded, with every field kept', async () => {
    const input = draft({ type: 'deny', reason: 'bad_signature' });
    const event = await store.record(input);
    expect(event).toEqual({ ...input, seq: 1 });
    expect(await store.undelivered(10)).toEqual([event]);
  });

  it('stores the replay entry with the event, the first use winning', async () => {
    const entry = { iss: 'rider.example', cti: 'a1b2', firstUsedMs: 1000, expSec: 2000 };
    await store.record(draft(), entry);
    await store.record(draft({ type: 'reopen' }), { ...entry, firstUsedMs: 9999 });

    expect(await store.findReplay('rider.example', 'a1b2')).toEqual(entry);
    expect(await store.findReplay('rider.example', 'ffff')).toBeUndefined();
    expect(await store.outboxDepth()).toBe(2);
  });

  it('keeps neither the event nor the replay entry when the transaction fails', async () => {
    const entry = { iss: 'rider.example', cti: 'c0de', firstUsedMs: 1000, expSec: 2000 };
    const first = draft();
    await store.record(first);
    // The same id again violates the primary key, so the whole transaction rolls back.
    const failure = await store.record(first, entry).catch((err: unknown) => err);
    expect(isRidergateError(failure, 'store_failed')).toBe(true);
    expect(await store.findReplay('rider.example', 'c0de')).toBeUndefined();
    expect(await store.outboxDepth()).toBe(1);
    expect((await store.record(draft())).seq).toBe(2);
  });

  it('lists undelivered events in seq order and forgets them once delivered', async () => {
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await store.record(draft()));

    const firstTwo = await store.undelivered(2);
    expect(firstTwo.map((e) => e.seq)).toEqual([1, 2]);

    await store.markDelivered([events[0]?.id ?? '', events[2]?.id ?? '']);
    expect((await store.undelivered(10)).map((e) => e.seq)).toEqual([2, 4, 5]);
    expect(await store.outboxDepth()).toBe(3);

    await store.markDelivered(events.map((e) => e.id));
    expect(await store.undelivered(10)).toEqual([]);
    expect(await store.outboxDepth()).toBe(0);
  });

  it('honours revocations by sub and by cti until their end time', async () => {
    await store.revoke({ iss: 'rider.example', kind: 'sub', value: 'rider-7', untilSec: 1000 });
    await store.revoke({ iss: 'rider.example', kind: 'cti', value: 'dead' });

    expect(await store.isRevoked('rider.example', 'rider-7', 'beef', 999)).toBe(true);
    expect(await store.isRevoked('rider.example', 'rider-7', 'beef', 1000)).toBe(false);
    expect(await store.isRevoked('rider.example', 'rider-8', 'dead', 5_000_000)).toBe(true);
    expect(await store.isRevoked('other.example', 'rider-7', 'dead', 0)).toBe(false);

    await store.revoke({ iss: 'rider.example', kind: 'sub', value: 'rider-7', untilSec: 3000 });
    expect(await store.isRevoked('rider.example', 'rider-7', 'beef', 2000)).toBe(true);
  });

  it('reads back settings it was given', async () => {
    expect(await store.getSetting('mqtt.session')).toBeUndefined();
    await store.setSetting('mqtt.session', '4');
    await store.setSetting('mqtt.session', '5');
    expect(await store.getSetting('mqtt.session')).toBe('5');
  });

  it('gives 50 concurrent records 50 distinct consecutive seqs', async () => {
    const drafts = Array.from({ length: 50 }, () => draft());
    const events = await Promise.all(drafts.map((d) => store.record(d)));
    const seqs = events.map((e) => e.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await store.outboxDepth()).toBe(50);
  });

  it('reports store_failed when used before open', async () => {
    const closed = new SqliteStore(join(dir, 'other.db'), silentLogger());
    const failure = await closed.outboxDepth().catch((err: unknown) => err);
    expect(isRidergateError(failure, 'store_failed')).toBe(true);
  });

  it('reports store_failed when the file cannot be opened', async () => {
    const bad = new SqliteStore(join(dir, 'nested'), silentLogger());
    const failure = await bad.open().catch((err: unknown) => err);
    expect(isRidergateError(failure, 'store_failed')).toBe(true);
  });
});

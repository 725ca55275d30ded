import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { SqliteStore, type SqliteStoreOptions } from '../../../src/store/sqlite-store.js';
import { captureLogger, draft, writeRandomBytes } from './store-helpers.js';

let dir: string;
let path: string;
const opened: SqliteStore[] = [];

async function openStore(
  options: SqliteStoreOptions = {},
  log = silentLogger(),
): Promise<SqliteStore> {
  const store = new SqliteStore(path, log, options);
  opened.push(store);
  await store.open();
  return store;
}

async function recordMany(store: SqliteStore, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) seqs.push((await store.record(draft())).seq);
  return seqs;
}

function sidecar(): string {
  return readFileSync(`${path}.seq`, 'utf8');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-seq-'));
  path = join(dir, 'gate.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('seq high-water file', () => {
  it('reserves the first block of 1000 before the first seq is handed out', async () => {
    const store = await openStore();
    expect(sidecar()).toBe('0\n');
    expect((await store.record(draft())).seq).toBe(1);
    expect(sidecar()).toBe('1000\n');
  });

  it('is written once per block, not once per event', async () => {
    const capture = captureLogger();
    const store = await openStore({ seqBlockSize: 10 }, capture.log);
    expect(await recordMany(store, 25)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));

    const writes = capture.lines().filter((line) => line.msg === 'seq ceiling written');
    expect(writes.map((w) => [w.reason, w.ceiling])).toEqual([
      ['reset', 0],
      ['reserve', 10],
      ['reserve', 20],
      ['reserve', 30],
    ]);
    expect(sidecar()).toBe('30\n');
  });

  it('keeps concurrent records distinct across block boundaries', async () => {
    const store = await openStore({ seqBlockSize: 7 });
    const events = await Promise.all(Array.from({ length: 30 }, () => store.record(draft())));
    expect(events.map((e) => e.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    expect(Number(sidecar())).toBeGreaterThanOrEqual(30);
  });

  it('continues the seq across close and reopen without a new reservation', async () => {
    let store = await openStore();
    await recordMany(store, 3);
    await store.close();
    const capture = captureLogger();
    store = await openStore({}, capture.log);
    expect((await store.record(draft())).seq).toBe(4);
    expect(capture.lines().filter((line) => line.msg === 'seq ceiling written')).toEqual([]);
    expect(sidecar()).toBe('1000\n');
  });

  it('rebuilds a missing or unreadable file from the database counter', async () => {
    let store = await openStore();
    await recordMany(store, 5);
    await store.close();
    unlinkSync(`${path}.seq`);
    store = await openStore();
    expect(sidecar()).toBe('5\n');
    await store.close();
    writeFileSync(`${path}.seq`, 'garbage');
    store = await openStore();
    expect(sidecar()).toBe('5\n');
    expect((await store.record(draft())).seq).toBe(6);
    expect(sidecar()).toBe('1005\n');
  });

  it('raises a file left behind the database counter (an old copy restored)', async () => {
    let store = await openStore();
    await recordMany(store, 5);
    await store.close();
    writeFileSync(`${path}.seq`, '2\n');
    store = await openStore();
    expect(sidecar()).toBe('5\n');
    expect((await store.record(draft())).seq).toBe(6);
  });

  it('starts a fresh database after a recovery above every seq the old one gave', async () => {
    let store = await openStore();
    const before = await recordMany(store, 40);
    await store.close();
    writeRandomBytes(path, 100);

    store = await openStore();

    expect(store.recovery?.lastSeq).toBe(1000);
    const after = await store.record(draft());
    expect(after.seq).toBe(1001);
    expect(after.seq).toBeGreaterThan(Math.max(...before));
    expect(sidecar()).toBe('2000\n');
    await store.close();
    store = await openStore();
    expect(store.recovery).toBeUndefined();
    expect((await store.record(draft())).seq).toBe(1002);
  });
});

import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRidergateError, type RidergateError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { SqliteDb } from '../../../src/store/sqlite.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { captureLogger, draft, writeRandomBytes } from './store-helpers.js';

const EVENTS_BEFORE = 300;
const MOVED_NAME = /^gate\.db\.corrupt-\d{8}T\d{6}Z$/;
const FILES = ['', '-wal', '-shm'];
const PAGE_BYTES = 4096;

let dir: string;
let path: string;
const opened: SqliteStore[] = [];

async function openStore(options = {}, log = silentLogger()): Promise<SqliteStore> {
  const store = new SqliteStore(path, log, options);
  opened.push(store);
  await store.open();
  return store;
}

/** A real journal of {@link EVENTS_BEFORE} events, closed (so the WAL is checkpointed). */
async function makeJournal(): Promise<void> {
  const store = await openStore();
  for (let i = 0; i < EVENTS_BEFORE; i++) await store.record(draft());
  await store.close();
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-corrupt-'));
  path = join(dir, 'gate.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore on a corrupt database', () => {
  it('opens a healthy file without a recovery', async () => {
    await makeJournal();
    const store = await openStore();
    expect(store.recovery).toBeUndefined();
    expect((await store.record(draft())).seq).toBe(EVENTS_BEFORE + 1);
  });

  for (const where of ['at offset 100', 'at offset 4096', 'in the middle']) {
    it(`moves aside a file with random bytes ${where} and keeps recording`, async () => {
      await makeJournal();
      const size = statSync(path).size;
      const offset = where === 'in the middle' ? Math.floor(size / 2) : Number(where.slice(10));
      writeRandomBytes(path, offset);
      const damaged = readFileSync(path);
      const capture = captureLogger();

      const store = await openStore({}, capture.log);

      const recovery = store.recovery;
      expect(recovery).toBeDefined();
      expect(basename(recovery?.movedTo ?? '')).toMatch(MOVED_NAME);
      expect(readFileSync(recovery?.movedTo ?? '').equals(damaged)).toBe(true);
      expect(recovery?.cause).toMatch(/SQLITE_CORRUPT|SQLITE_NOTADB|quick_check/);
      const event = await store.record(draft());
      expect(event.seq).toBeGreaterThan(EVENTS_BEFORE);
      expect(await store.undelivered(10)).toEqual([event]);
      const warnings = capture.lines().filter((l) => l.msg === 'store corrupt, moved aside');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ movedTo: recovery?.movedTo, path });
    });
  }

  it('moves aside a plain text file given as the database', async () => {
    writeFileSync(path, 'store:\n  path: this is a config file, not a database\n'.repeat(50));
    const store = await openStore();
    expect(store.recovery?.cause).toContain('SQLITE_NOTADB');
    expect(readFileSync(store.recovery?.movedTo ?? '', 'utf8')).toContain('not a database');
    expect((await store.record(draft())).seq).toBe(1);
  });

  it('moves the write-ahead log and shared memory files with the database', async () => {
    // A power cut: the files as a running gate left them, events still in the WAL.
    await makeJournal();
    const live = await openStore();
    for (let i = 0; i < 20; i++) await live.record(draft());
    const snapshot = join(dir, 'snapshot');
    for (const suffix of FILES) copyFileSync(`${path}${suffix}`, `${snapshot}${suffix}`);
    await live.close();
    for (const suffix of FILES) copyFileSync(`${snapshot}${suffix}`, `${path}${suffix}`);
    writeRandomBytes(path, Math.floor(statSync(path).size / 2));
    const damaged = ['', '-wal'].map((suffix) => readFileSync(`${path}${suffix}`));

    const store = await openStore();

    // The database and its WAL move byte for byte; the shared memory index is rebuilt by
    // SQLite on every open, so only its presence is checked.
    const movedTo = store.recovery?.movedTo ?? '';
    expect(readFileSync(movedTo).equals(damaged[0] ?? Buffer.alloc(0))).toBe(true);
    expect(readFileSync(`${movedTo}-wal`).equals(damaged[1] ?? Buffer.alloc(0))).toBe(true);
    expect(existsSync(`${movedTo}-shm`)).toBe(true);
    expect(await store.undelivered(1000)).toEqual([]);
    expect((await store.record(draft())).seq).toBeGreaterThan(EVENTS_BEFORE + 20);
  });

  it('names the second moved file apart from the first in the same second', async () => {
    const nowMs = () => Date.UTC(2026, 11, 3, 15, 41, 0);
    writeFileSync(path, 'not a database');
    const first = await openStore({ nowMs });
    await first.close();
    writeFileSync(path, 'not a database either');
    const second = await openStore({ nowMs });
    expect(first.recovery?.movedTo).toBe(`${path}.corrupt-20261203T154100Z`);
    expect(second.recovery?.movedTo).toBe(`${path}.corrupt-20261203T154100Z-2`);
  });

  it('starts above the old counter when the seq file was lost too, if the counter is readable', async () => {
    await makeJournal();
    unlinkSync(`${path}.seq`);
    // Past the settings table's page, so its counter stays readable.
    writeRandomBytes(path, Math.floor(statSync(path).size / 2));
    const store = await openStore();
    expect(store.recovery?.lastSeq).toBe(EVENTS_BEFORE);
    expect((await store.record(draft())).seq).toBe(EVENTS_BEFORE + 1);
  });

  it('fails with store_failed and leaves the file alone when recovery is off', async () => {
    writeFileSync(path, 'not a database');
    const failure = await openStore({ recoverCorrupt: false }).catch((err: unknown) => err);
    expect(isRidergateError(failure, 'store_failed')).toBe(true);
    expect((failure as Error).message).toBe(
      `store.path ${path}: cannot open (SQLITE_NOTADB): the file is not a SQLite database; ` +
        'the gate moves it aside when it starts',
    );
    expect(readdirSync(dir)).toEqual(['gate.db']);
  });
});

describe('SqliteStore when the database is damaged while running', () => {
  it('reports store_failed with SQLITE_CORRUPT and does not move the file', async () => {
    await makeJournal();
    const store = await openStore();
    const other = await SqliteDb.open(path);
    const events = await other.get<{ rootpage: number }>(
      "SELECT rootpage FROM sqlite_master WHERE name = 'events'",
    );
    // Random bytes over the events table's root page; the rest of the file stays sound.
    writeRandomBytes(path, ((events?.rootpage ?? 1) - 1) * PAGE_BYTES, PAGE_BYTES);
    // A write by another connection makes the store drop its page cache and read the disk.
    await other.exec('PRAGMA user_version = 7');
    await other.close();

    const failure = await store.record(draft()).catch((err: unknown) => err);

    expect(isRidergateError(failure, 'store_failed')).toBe(true);
    expect((failure as RidergateError).context).toMatchObject({ errCode: 'SQLITE_CORRUPT' });
    expect((failure as Error).message).toBe(
      `store.path ${path}: record failed (SQLITE_CORRUPT): the database is corrupt; ` +
        'the gate moves it aside when it starts',
    );
    expect(store.recovery).toBeUndefined();
    expect(readdirSync(dir).filter((name) => name.includes('corrupt'))).toEqual([]);
  });
});

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRidergateError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { CURRENT_SCHEMA_VERSION } from '../../../src/store/schema.js';
import { SqliteDb } from '../../../src/store/sqlite.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { captureLogger } from './store-helpers.js';

let dir: string;

/** The message of the error open() fails with, after checking it is store_failed. */
async function openFailure(path: string): Promise<string> {
  const store = new SqliteStore(path, silentLogger());
  const failure = await store.open().then(
    () => store.close().then(() => undefined),
    (err: unknown) => err,
  );
  expect(isRidergateError(failure, 'store_failed')).toBe(true);
  return (failure as Error).message;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ridergate-path-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('store.path errors', () => {
  it('says a directory is not a database file path', async () => {
    expect(await openFailure(dir)).toBe(
      `store.path ${dir}: not a database file path (it is a directory)`,
    );
  });

  it('names the file in the way of the folder', async () => {
    const blocker = join(dir, 'passwd');
    writeFileSync(blocker, 'root:x:0:0\n');
    expect(await openFailure(join(blocker, 'deeper', 'x.db'))).toBe(
      `store.path ${join(blocker, 'deeper', 'x.db')}: cannot create the folder ${blocker} ` +
        '(a file is in the way)',
    );
  });

  it('refuses kernel filesystems, also behind a symlink, without hanging', async () => {
    expect(await openFailure('/proc/ridergate/gate.db')).toBe(
      'store.path /proc/ridergate/gate.db: not a place for a database ' +
        '(/proc holds the kernel process filesystem, not storage)',
    );
    expect(await openFailure('/sys/gate.db')).toContain('(/sys holds');
    expect(await openFailure('/dev/shm/gate.db')).toContain('(/dev holds');
    symlinkSync('/proc/self', join(dir, 'link'));
    expect(await openFailure(join(dir, 'link', 'new', 'gate.db'))).toContain('(/proc holds');
  });

  it('explains SQLITE_CANTOPEN once, in the message and in the log', async () => {
    // A dangling symlink: SQLite follows it into a folder that does not exist.
    const path = join(dir, 'gate.db');
    symlinkSync(join(dir, 'missing', 'gate.db'), path);
    const store = new SqliteStore(path, silentLogger());
    const failure = await store.open().catch((err: unknown) => err);
    const expected =
      `store.path ${path}: cannot open (SQLITE_CANTOPEN): check the folder exists and the ` +
      'service user may write it';
    expect((failure as Error).message).toBe(expected);

    const capture = captureLogger();
    capture.log.error({ err: failure }, 'gate could not start');
    const logged = capture.lines()[0]?.err as { message: string };
    expect(logged.message).toBe(expected);
  });

  it('refuses a file of a newer schema without migrating or moving it', async () => {
    const path = join(dir, 'gate.db');
    const newer = await SqliteDb.open(path);
    await newer.exec(
      "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO settings VALUES ('schema_version', '99')",
    );
    await newer.close();

    expect(await openFailure(path)).toBe(
      `store.path ${path}: written by a newer ridergate (schema version 99; this one reads ` +
        `up to ${CURRENT_SCHEMA_VERSION}): upgrade ridergate, or point store.path at another file`,
    );
    const check = await SqliteDb.open(path, true);
    const tables = await check.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table'",
    );
    const mode = await check.get<{ journal_mode: string }>('PRAGMA journal_mode');
    await check.close();
    expect(tables.map((t) => t.name)).toEqual(['settings']);
    expect(mode?.journal_mode).toBe('delete');
    expect(readdirSync(dir).sort()).toEqual(['gate.db']);
  });

  it('still creates missing folders for a good path', async () => {
    mkdirSync(join(dir, 'var'));
    const path = join(dir, 'var', 'lib', 'ridergate', 'gate.db');
    const store = new SqliteStore(path, silentLogger());
    await store.open();
    await store.close();
    expect(existsSync(path)).toBe(true);
  });
});

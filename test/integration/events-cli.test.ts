import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventType } from '../../src/event.js';
import { silentLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { cliPath } from '../helpers/daemon.js';

const DAY_MS = 86_400_000;
const START_MS = Date.parse('2026-11-01T00:00:00Z');
const COUNT = 1_200;

function ridergate(args: string[]) {
  const result = spawnSync(process.execPath, [cliPath(), ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('ridergate events: the visitor register', () => {
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-events-'));
    db = join(dir, 'gate.db');
    const store = new SqliteStore(db, silentLogger());
    await store.open();
    const types: EventType[] = ['admit', 'deny', 'admit', 'reopen'];
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < COUNT; i += 1) {
      const type = types[i % types.length] ?? 'admit';
      writes.push(
        store.record({
          id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
          ts: START_MS + Math.floor((i * 30 * DAY_MS) / COUNT),
          clock: 'synced',
          site: 'north',
          gate: 'g1',
          type,
          ...(type === 'deny' ? { reason: 'expired' } : {}),
          iss: 'eats',
          sub: i % 10 === 0 ? 'rider, "quoted"' : `rider-${i % 7}`,
          cti: i.toString(16).padStart(16, '0'),
          decisionUs: 900 + i,
        }),
      );
    }
    await Promise.all(writes);
    await store.markDelivered([`00000000-0000-7000-8000-${'0'.repeat(12)}`]);
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exports every event as JSON, in seq order, with delivery times', () => {
    const out = ridergate(['events', '--store', db, '--format', 'json']);
    expect(out.code).toBe(0);
    const events = JSON.parse(out.stdout) as { seq: number; deliveredAt?: number }[];
    expect(events).toHaveLength(COUNT);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    expect(events[0]?.deliveredAt).toBeTypeOf('number');
    expect(events[1]?.deliveredAt).toBeUndefined();
  });

  it('filters by type, rider and time, and quotes CSV fields as RFC 4180 asks', () => {
    const denies = ridergate(['events', '--store', db, '--type', 'deny', '--format', 'csv']);
    const lines = denies.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,seq,time,type,reason,iss,sub,cti,decision_us,clock,delivered,set_aside',
    );
    expect(lines).toHaveLength(1 + COUNT / 4);
    expect(lines.slice(1).every((l) => l.includes(',deny,expired,'))).toBe(true);

    const quoted = ridergate([
      'events',
      '--store',
      db,
      '--sub',
      'rider, "quoted"',
      '--format',
      'csv',
    ]);
    expect(quoted.stdout).toContain(',"rider, ""quoted""",');
    expect(quoted.stdout.trimEnd().split('\r\n')).toHaveLength(1 + COUNT / 10);

    const week = ridergate([
      'events',
      '--store',
      db,
      '--since',
      '2026-11-08',
      '--until',
      '2026-11-15',
      '--format',
      'json',
    ]);
    const inWeek = JSON.parse(week.stdout) as { ts: number }[];
    expect(inWeek.length).toBeGreaterThan(0);
    expect(
      inWeek.every((e) => e.ts >= Date.parse('2026-11-08') && e.ts < Date.parse('2026-11-15')),
    ).toBe(true);
  });

  it('prints a readable table with a count', () => {
    const table = ridergate(['events', '--store', db, '--type', 'reopen']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^time \(UTC\)\s+seq\s+type\s+reason\s+issuer\s+rider\s+token/);
    expect(lines[1]).toMatch(/^2026-11-01T\S+\s+4\s+reopen\s+eats\s+rider-3/);
    expect(lines.at(-1)).toBe(`${COUNT / 4} events`);
  });

  it('rejects bad filters with exit code 2, and a missing database with a clear line', () => {
    const badType = ridergate(['events', '--store', db, '--type', 'enter']);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain(
      '--type "enter": expected a comma-separated list of admit, deny',
    );
    expect(ridergate(['events', '--store', db, '--since', 'yesterday']).stderr).toContain(
      '--since "yesterday": expected an ISO 8601 time',
    );
    expect(ridergate(['events', '--store', db, '--format', 'xml']).code).toBe(2);
    const backwards = ridergate([
      'events',
      '--store',
      db,
      '--since',
      '2026-12-02',
      '--until',
      '2026-12-01',
    ]);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain(
      '--until 2026-12-01 is not after --since 2026-12-02: no event could match; swap them?',
    );
    const missing = ridergate(['events', '--store', join(dir, 'none.db')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `ridergate: store.path ${join(dir, 'none.db')}: no such file; check store.path or --store\n`,
    );
    expect(missing.stdout).toBe('');
    const folder = ridergate(['events', '--store', dir]);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(
      `ridergate: store.path ${dir}: is a folder; give the database file in it (e.g. ridergate.db)\n`,
    );
    // Not a gate's store: nothing on stdout either, not even the JSON array's opening bracket.
    const foreign = join(dir, 'foreign.db');
    writeFileSync(foreign, '');
    const notGate = ridergate(['events', '--store', foreign, '--format', 'json']);
    expect(notGate.code).toBe(1);
    expect(notGate.stderr).toContain('foreign.db: not a ridergate store');
    expect(notGate.stdout).toBe('');
  });
});

describe('ridergate events: set-aside events', () => {
  let dir: string;
  let db: string;
  let store: SqliteStore;
  const ids: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-events-aside-'));
    db = join(dir, 'gate.db');
    // Left open for the whole suite, as a running gate keeps it.
    store = new SqliteStore(db, silentLogger());
    await store.open();
    for (let i = 0; i < 4; i += 1) {
      const event = await store.record({
        id: `00000000-0000-7000-9000-${String(i).padStart(12, '0')}`,
        ts: START_MS + i * 60_000,
        clock: 'synced',
        site: 'north',
        gate: 'g1',
        type: 'admit',
        iss: 'eats',
        sub: i === 2 ? `rider-${'x'.repeat(3_000)}` : `rider-${i}`,
        cti: i.toString(16).padStart(16, '0'),
      });
      ids.push(event.id);
    }
    await store.markDelivered([ids[0] ?? '']);
    await store.setAside(ids[1] ?? '', { kind: 'suspected', retryAtMs: START_MS + DAY_MS });
    await store.setAside(ids[2] ?? '', { kind: 'refused' });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks set-aside events in the table, the CSV and the JSON, and lists them alone with --set-aside', () => {
    const table = ridergate(['events', '--store', db]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[2]).toMatch(
      /\s2\s+admit\s.*\[set aside: suspected, next retry 2026-11-02T00:00:00\.000Z\]$/,
    );
    expect(lines[3]).toMatch(/\s3\s+admit\s.*\[set aside: refused, over mqtt\.maxEventBytes\]$/);
    expect(lines[1]).not.toContain('set aside');
    expect(lines.at(-1)).toBe(
      '4 events, 2 set aside (not delivered to operations yet: see ridergate events requeue)',
    );

    const csv = ridergate(['events', '--store', db, '--format', 'csv']).stdout.split('\r\n');
    expect(csv.slice(1, 5).map((l) => l.split(',').at(-1))).toEqual([
      '',
      'suspected',
      'refused',
      '',
    ]);

    const only = ridergate(['events', '--store', db, '--set-aside', '--format', 'json']);
    const events = JSON.parse(only.stdout) as { seq: number; setAside: unknown }[];
    expect(events.map((e) => e.seq)).toEqual([2, 3]);
    expect(events[0]?.setAside).toEqual({
      kind: 'suspected',
      at: expect.any(Number),
      retries: 0,
      nextRetryAt: START_MS + DAY_MS,
    });
  });

  it('requeue --all makes the suspected events due now beside the open store, and explains the refused ones', async () => {
    const out = ridergate(['events', 'requeue', '--all', '--store', db]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('requeued 1 suspected event (seq 2): a running gate retries');
    expect(out.stdout).toMatch(
      /seq 3 stays aside: refused, \d+ bytes as published; raise mqtt\.maxEventBytes/,
    );
    const due = await store.nextAsideDue(Date.now(), DAY_MS);
    expect(due).toMatchObject({ event: { seq: 2 }, retries: 0 });
  });

  it('requeue --seq says why an event is not requeued, and refuses bad usage with exit code 2', () => {
    const delivered = ridergate(['events', 'requeue', '--seq', '1', '--store', db]);
    expect(delivered.code).toBe(1);
    expect(delivered.stderr).toContain('event seq 1 is not set aside: it was delivered');
    const waiting = ridergate(['events', '--store', db, 'requeue', '--seq', '4']);
    expect(waiting.code).toBe(1);
    expect(waiting.stderr).toContain('event seq 4 is not set aside: it is in the outbox');

    const neither = ridergate(['events', 'requeue', '--store', db]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('events requeue: give either --all or --seq N');
    const listing = ridergate(['events', 'requeue', '--all', '--format', 'json', '--store', db]);
    expect(listing.code).toBe(2);
    expect(listing.stderr).toContain('--format applies only to the listing');
    expect(ridergate(['events', 'requeue', '--seq', 'x', '--store', db]).code).toBe(2);
  });
});

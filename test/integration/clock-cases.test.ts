import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateEvent } from '../../src/event.js';
import { issueToken } from '../../src/token/issue.js';
import { readPrivateKey } from '../../src/token/keys.js';
import { capturedLogger, FakeSystemTime } from '../helpers/clock-fakes.js';
import { makeTestGate, type Provisioned, provision, type TestGate } from '../helpers/gate-app.js';
import { freePort } from '../helpers/mosquitto.js';
import { waitUntil } from '../helpers/pty.js';

const DAY_MS = 86_400_000;

/**
 * Field cases C1 (boot with a stale clock) and C2 (the clock jumps while running), and the
 * replay cache across a restart, on a whole gate in this process whose system clock is fake.
 * The broker URL points at a closed port, so every event stays in the outbox to be read.
 */
describe('the gate and its clock', () => {
  let dir: string;
  let provisioned: Provisioned;
  let brokerUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-clock-cases-'));
    provisioned = await provision(dir);
    brokerUrl = `mqtt://127.0.0.1:${await freePort()}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function gateWith(
    name: string,
    system: FakeSystemTime,
    sync: () => boolean,
    over: Record<string, unknown> = {},
  ) {
    const logs = capturedLogger();
    const gate = makeTestGate(dir, provisioned, {
      brokerUrl,
      dbPath: join(dir, `${name}.db`),
      over: { policy: { skewSec: 30, reopenGraceSec: 20, ...over } },
      overrides: { clockSources: { system, sync, checkEveryMs: 50 } },
      log: logs.log,
    });
    return { gate, logs };
  }

  /** A token of the provisioned issuer with times in seconds. */
  function tokenAt(iatSec: number, expSec: number, sub = 'rider-1'): string {
    const key = readPrivateKey(provisioned.privateFile);
    return issueToken({
      privateKey: key.key,
      kid: key.kid,
      alg: key.alg,
      claims: { iss: 'eats', sub, iat: iatSec, exp: expSec },
    }).text;
  }

  const events = async (gate: TestGate): Promise<GateEvent[]> => gate.app.store.undelivered(1_000);

  it('C1: boots a month behind its floor: no time before the floor, events unsynced, the unsynced policy applied', async () => {
    const floorMs = Date.now();
    writeFileSync(join(dir, 'c1.db.floor'), `${floorMs}\n`);
    const system = new FakeSystemTime(-30 * DAY_MS);
    let synced = false;
    const { gate, logs } = gateWith('c1', system, () => synced);
    await gate.app.start();
    try {
      const nowSec = Math.floor(floorMs / 1000);
      // Issued "now" by a synchronised issuer: a month in the future for the stale system clock.
      expect((await gate.scan(tokenAt(nowSec, nowSec + 120)))?.type).toBe('admit');
      // Issued 2 minutes ahead of the floor: within the wider unsynced skew (300 s).
      const ahead = await gate.scan(tokenAt(nowSec + 120, nowSec + 240, 'rider-2'));
      expect(ahead?.type).toBe('admit');
      // Expired by the floor, though valid by the stale system clock.
      const expired = await gate.scan(tokenAt(nowSec - 600, nowSec - 480, 'rider-3'));
      expect(expired).toMatchObject({ type: 'deny', reason: 'expired' });

      const journal = await events(gate);
      expect(journal.map((e) => e.type)).toEqual(['boot', 'admit', 'admit', 'deny']);
      for (const e of journal) {
        expect(e.ts).toBeGreaterThanOrEqual(floorMs);
        expect(e.clock).toBe('unsynced');
      }
      expect(gate.app.timekeeper?.stats()).toEqual({
        state: 'unsynced',
        everSynced: false,
        floorTs: floorMs,
        jumps: 0,
      });

      // NTP synchronises: the clock steps a month forward, once in the log; events are synced.
      synced = true;
      system.jump(30 * DAY_MS);
      await waitUntil(() => gate.app.timekeeper?.stats().everSynced === true, 'synchronised');
      await waitUntil(() => gate.app.timekeeper?.stats().jumps === 1, 'the jump seen');
      expect((await gate.scan(gate.token('rider-4')))?.clock).toBe('synced');
      expect(logs.lines.filter((l) => l.msg === 'clock jumped')).toHaveLength(1);
    } finally {
      await gate.app.stop();
    }
    // The floor on disk never went back, and moved on at the clean stop.
    expect(Number(readFileSync(join(dir, 'c1.db.floor'), 'utf8'))).toBeGreaterThanOrEqual(floorMs);
  });

  it('C1: under the strict policy a token issued ahead of the stale clock waits for NTP', async () => {
    writeFileSync(join(dir, 'c1s.db.floor'), `${Date.now()}\n`);
    const system = new FakeSystemTime(-30 * DAY_MS);
    const { gate } = gateWith('c1s', system, () => false, { unsyncedClock: 'strict' });
    await gate.app.start();
    try {
      const nowSec = Math.floor(Date.now() / 1000);
      const ahead = await gate.scan(tokenAt(nowSec + 120, nowSec + 240));
      expect(ahead).toMatchObject({ type: 'deny', reason: 'not_yet_valid', clock: 'unsynced' });
    } finally {
      await gate.app.stop();
    }
  });

  it('C2: a jump of +2 h and one of -10 min: one log line each, seq and ids increasing, grace and replay right', async () => {
    const system = new FakeSystemTime();
    const { gate, logs } = gateWith('c2', system, () => true, { reopenGraceSec: 3 });
    await gate.app.start();
    const jumps = () => logs.lines.filter((l) => l.msg === 'clock jumped');
    try {
      const first = gate.token('rider-1');
      expect((await gate.scan(first))?.type).toBe('admit');

      system.jump(2 * 3_600_000);
      await waitUntil(() => jumps().length === 1, 'the forward jump logged');
      // Two hours later by the wall clock the token has expired; a fresh one is admitted.
      expect((await gate.scan(first))?.reason).toBe('expired');
      const second = tokenAt(
        Math.floor(system.wallMs() / 1000),
        Math.floor(system.wallMs() / 1000) + 120,
        'rider-2',
      );
      expect((await gate.scan(second))?.type).toBe('admit');

      // The floor moves on, as the 10-minute timer does; then NTP steps the clock back.
      await gate.app.timekeeper?.advanceFloor();
      system.jump(-600_000);
      await waitUntil(() => jumps().length === 2, 'the backward jump logged');
      // Time holds at the floor, before the admission; monotonic time says it was seconds ago.
      expect((await gate.scan(second))?.type).toBe('reopen');
      const before = performance.now();
      await waitUntil(() => performance.now() - before > 3_500, 'the grace over', {
        timeoutMs: 10_000,
      });
      expect(await gate.scan(second)).toMatchObject({ type: 'deny', reason: 'replayed' });

      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(jumps()).toHaveLength(2);
      expect(jumps().map((l) => Math.round((l.jumpMs as number) / 60_000))).toEqual([120, -10]);
      expect(gate.app.timekeeper?.stats().jumps).toBe(2);

      const journal = await events(gate);
      const seqs = journal.map((e) => e.seq);
      const ids = journal.map((e) => e.id);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(ids).toEqual([...ids].sort());
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await gate.app.stop();
    }
  });

  it('keeps the replay cache across a restart: reopen within the grace, replayed after it', async () => {
    const system = new FakeSystemTime();
    const token = tokenAt(Math.floor(Date.now() / 1000), Math.floor(Date.now() / 1000) + 300);
    const one = gateWith('restart', system, () => true, { reopenGraceSec: 60 }).gate;
    await one.app.start();
    expect((await one.scan(token))?.type).toBe('admit');
    await one.app.stop();

    const two = gateWith('restart', system, () => true, { reopenGraceSec: 60 }).gate;
    await two.app.start();
    try {
      expect((await two.scan(token))?.type).toBe('reopen');
      system.pass(61_000);
      expect(await two.scan(token)).toMatchObject({ type: 'deny', reason: 'replayed' });
    } finally {
      await two.app.stop();
    }
  });
});

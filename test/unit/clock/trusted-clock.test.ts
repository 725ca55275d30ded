import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TimeFloorFile } from '../../../src/clock/time-floor.js';
import { TrustedClock, type TrustedClockOptions } from '../../../src/clock/trusted-clock.js';
import { capturedLogger, FakeSystemTime } from '../../helpers/clock-fakes.js';

const DAY_MS = 86_400_000;

describe('the trusted clock', () => {
  let dir: string;
  let floor: TimeFloorFile;
  let system: FakeSystemTime;
  let synced: boolean;
  let logs: ReturnType<typeof capturedLogger>;
  const clocks: TrustedClock[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-clock-'));
    floor = new TimeFloorFile(join(dir, 'gate.db'));
    system = new FakeSystemTime();
    synced = false;
    logs = capturedLogger();
  });
  afterEach(async () => {
    for (const c of clocks.splice(0)) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function make(over: Partial<TrustedClockOptions> = {}): TrustedClock {
    const clock = new TrustedClock({
      floor,
      log: logs.log,
      skewSec: 30,
      system,
      sync: () => synced,
      ...over,
    });
    clocks.push(clock);
    return clock;
  }
  const jumpLines = () => logs.lines.filter((l) => l.msg === 'clock jumped');

  it('C1: booted a month behind its floor, never gives a time before the floor and counts on from it', () => {
    const floorMs = Date.now();
    writeFileSync(floor.path, `${floorMs}\n`);
    system.jump(-30 * DAY_MS);
    const clock = make();
    expect(clock.nowMs()).toBeGreaterThanOrEqual(floorMs);
    system.pass(60_000);
    expect(clock.nowMs()).toBeGreaterThanOrEqual(floorMs + 60_000);
    expect(clock.state()).toBe('unsynced');
    expect(clock.stats()).toEqual({
      state: 'unsynced',
      everSynced: false,
      floorTs: floorMs,
      jumps: 0,
    });
    const ready = logs.lines.find((l) => l.msg === 'clock ready');
    expect(ready?.behindMs).toBeGreaterThan(29 * DAY_MS);
  });

  it('applies the unsynced policy: a wider skew while unsynced (lenient), the normal one when strict or synced', () => {
    expect(make().verifySkewSec()).toBe(300);
    expect(make({ policy: 'strict' }).verifySkewSec()).toBe(30);
    expect(make({ unsyncedSkewSec: 900 }).verifySkewSec()).toBe(900);
    synced = true;
    expect(make().verifySkewSec()).toBe(30);
  });

  it('never trusts an unsynced clock that runs ahead for the floor on disk', async () => {
    const floorMs = Date.now() - DAY_MS;
    writeFileSync(floor.path, `${floorMs}\n`);
    system.jump(365 * DAY_MS); // a bogus RTC a year ahead
    const clock = make();
    system.pass(5_000);
    await clock.stop();
    const written = Number(readFileSync(floor.path, 'utf8'));
    expect(written).toBeGreaterThanOrEqual(floorMs + 5_000);
    expect(written).toBeLessThan(floorMs + DAY_MS);
  });

  it('advances the floor to the system time once synchronised, and never moves it back', async () => {
    const clock = make();
    clock.start();
    synced = true;
    await clock.check();
    await clock.advanceFloor();
    const first = Number(readFileSync(floor.path, 'utf8'));
    expect(Math.abs(first - Date.now())).toBeLessThan(5_000);
    expect(clock.stats()).toMatchObject({ state: 'synced', everSynced: true, floorTs: first });
    system.jump(-600_000);
    await clock.advanceFloor();
    expect(Number(readFileSync(floor.path, 'utf8'))).toBe(first);
    expect(clock.nowMs()).toBeGreaterThanOrEqual(first);
    synced = false;
    await clock.check();
    expect(clock.stats()).toMatchObject({ state: 'unsynced', everSynced: true });
  });

  it('ignores a torn or tampered floor file', () => {
    writeFileSync(floor.path, '17000000000000000000000\n');
    expect(floor.read()).toBeUndefined();
    writeFileSync(floor.path, 'yesterday');
    expect(make().stats().floorTs).toBeNull();
  });

  it('C2: logs one line per jump, forward and back, and counts them', async () => {
    synced = true;
    const clock = make();
    await clock.check();
    system.pass(1_000);
    await clock.check();
    expect(jumpLines()).toHaveLength(0);
    system.jump(2 * 3_600_000);
    await clock.check();
    await clock.check();
    system.pass(2_000);
    await clock.check();
    system.jump(-600_000);
    await clock.check();
    await clock.check();
    const jumps = jumpLines();
    expect(jumps).toHaveLength(2);
    expect(jumps[0]).toMatchObject({ level: 40, jumpMs: expect.any(Number) });
    expect(Math.round((jumps[0]?.jumpMs as number) / 1000)).toBe(7_200);
    expect(Math.round((jumps[1]?.jumpMs as number) / 1000)).toBe(-600);
    expect((jumps[1]?.toTs as number) - (jumps[1]?.fromTs as number)).toBe(jumps[1]?.jumpMs);
    expect(clock.stats().jumps).toBe(2);
  });

  it('takes no late event loop for a jump', async () => {
    const clock = make();
    await clock.check();
    system.pass(30_000); // both clocks moved: a stalled process, not a step
    await clock.check();
    expect(jumpLines()).toHaveLength(0);
  });

  it('reads the sync state from a probe that answers later (timedatectl)', async () => {
    const clock = make({ sync: async () => true });
    expect(clock.state()).toBe('unsynced');
    await clock.check();
    expect(clock.state()).toBe('synced');
  });
});

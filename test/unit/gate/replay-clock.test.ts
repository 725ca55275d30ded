import { describe, expect, it } from 'vitest';
import { MAX_REPLAY_CLOCK_ENTRIES, ReplayClock } from '../../../src/gate/replay-clock.js';

const GRACE_MS = 20_000;
const T = Date.UTC(2026, 5, 1);
const entry = (firstUsedMs: number) => ({ iss: 'eats', cti: 'aa', firstUsedMs, expSec: 0 });

/** "now − first use" as decide() sees it after the adjustment. */
function seen(clock: ReplayClock, firstUsedMs: number, nowMs: number, monoMs: number): number {
  const adjusted = clock.adjust('eats', 'aa', entry(firstUsedMs), nowMs, monoMs);
  return nowMs - (adjusted?.firstUsedMs ?? Number.NaN);
}
const reopens = (elapsed: number) => elapsed <= GRACE_MS;

describe('the reopen grace across clock steps', () => {
  it('follows the wall clock for an admission of an earlier run', () => {
    const clock = new ReplayClock(GRACE_MS);
    expect(reopens(seen(clock, T, T + 5_000, 0))).toBe(true);
    expect(reopens(seen(clock, T, T + 25_000, 0))).toBe(false);
    // The clock went back since: a first use "in the future" is a replay, never a reopen.
    expect(reopens(seen(clock, T, T - 600_000, 0))).toBe(false);
  });

  it('trusts monotonic time for an admission of this run when the clock stepped back', () => {
    const clock = new ReplayClock(GRACE_MS);
    clock.remember('eats', 'aa', 1_000);
    expect(reopens(seen(clock, T, T - 600_000 + 5_000, 6_000))).toBe(true);
    expect(reopens(seen(clock, T, T - 600_000 + 30_000, 31_000))).toBe(false);
    // Time held at the floor (the wall clock stands still): monotonic time still ends the grace.
    expect(reopens(seen(clock, T, T, 60_000))).toBe(false);
  });

  it('errs on the safe side after a step forward within the grace', () => {
    const clock = new ReplayClock(GRACE_MS);
    clock.remember('eats', 'aa', 1_000);
    expect(reopens(seen(clock, T, T + 7_200_000, 3_000))).toBe(false);
  });

  it('passes "never used" through', () => {
    expect(new ReplayClock(GRACE_MS).adjust('eats', 'aa', undefined, T, 0)).toBeUndefined();
  });
});

describe('the memory the reopen grace keeps', () => {
  const DAY_MS = 24 * 3_600_000;

  it('remembers at most 10,000 admissions however many tokens are scanned, newest kept', () => {
    const clock = new ReplayClock(GRACE_MS);
    for (let i = 0; i < 25_000; i++) clock.remember('eats', `cti-${i}`, i);
    expect(MAX_REPLAY_CLOCK_ENTRIES).toBe(10_000);
    expect(clock.size).toBe(MAX_REPLAY_CLOCK_ENTRIES);

    // After a step back of the clock, the newest admission still reopens (its monotonic time
    // is kept); the oldest one was forgotten and is judged by the wall clock alone: a replay.
    const back = (cti: string) =>
      clock.adjust('eats', cti, { ...entry(T), cti }, T - 600_000, 25_000)?.firstUsedMs;
    expect(back('cti-24999')).toBe(T - 600_000);
    expect(back('cti-0')).toBe(0);
  });

  it('forgets admissions older than a day at the next one', () => {
    const clock = new ReplayClock(GRACE_MS);
    for (let i = 0; i < 1_000; i++) clock.remember('eats', `cti-${i}`, i);
    clock.remember('eats', 'next-day', 1_000 + DAY_MS);
    expect(clock.size).toBe(1);
  });

  it('keeps one entry for a token admitted again', () => {
    const clock = new ReplayClock(GRACE_MS);
    for (let i = 0; i < 100; i++) clock.remember('eats', 'aa', i);
    expect(clock.size).toBe(1);
  });
});

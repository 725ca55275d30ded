import { describe, expect, it } from 'vitest';
import { ScanDeduper } from '../../../src/scanner/dedupe.js';

/** A clock the test moves by hand. */
function manualClock(startMs = 1_000) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('ScanDeduper (S6)', () => {
  it('passes one of three reads of the same code within 400 ms, and the code again after 10 s', () => {
    const clock = manualClock();
    const deduper = new ScanDeduper({ windowMs: 1_500, now: clock.now });
    const passed: boolean[] = [];
    for (const stepMs of [0, 200, 200]) {
      clock.advance(stepMs);
      passed.push(!deduper.isDuplicate('T'));
    }
    clock.advance(10_000);
    passed.push(!deduper.isDuplicate('T'));
    expect(passed).toEqual([true, false, false, true]);
  });

  it('keeps suppressing a code held in view: the window runs from the last read', () => {
    const clock = manualClock();
    const deduper = new ScanDeduper({ windowMs: 1_500, now: clock.now });
    expect(deduper.isDuplicate('T')).toBe(false);
    for (let i = 0; i < 10; i += 1) {
      clock.advance(1_000);
      expect(deduper.isDuplicate('T')).toBe(true);
    }
  });

  it('passes a different code at once', () => {
    const clock = manualClock();
    const deduper = new ScanDeduper({ windowMs: 1_500, now: clock.now });
    expect(deduper.isDuplicate('T1')).toBe(false);
    clock.advance(10);
    expect(deduper.isDuplicate('T2')).toBe(false);
  });

  it('suppresses nothing when the window is 0', () => {
    const deduper = new ScanDeduper({ windowMs: 0, now: () => 0 });
    expect([deduper.isDuplicate('T'), deduper.isDuplicate('T')]).toEqual([false, false]);
  });

  it('remembers at most `capacity` texts, whatever is scanned', () => {
    const clock = manualClock();
    const deduper = new ScanDeduper({ windowMs: 60_000, now: clock.now, capacity: 4 });
    for (let i = 0; i < 1_000; i += 1) deduper.isDuplicate(`T${i}`);
    expect(deduper.size).toBe(4);
    expect(deduper.isDuplicate('T999')).toBe(true);
  });

  it('forgets texts whose window has passed', () => {
    const clock = manualClock();
    const deduper = new ScanDeduper({ windowMs: 1_500, now: clock.now });
    deduper.isDuplicate('T1');
    clock.advance(2_000);
    deduper.isDuplicate('T2');
    expect(deduper.size).toBe(1);
  });
});

import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { MonotonicUuid7 } from '../../../src/clock/monotonic-id.js';

const T = Date.UTC(2026, 5, 1);

describe('event ids', () => {
  it('the uuid package alone goes back with the clock when given a time', () => {
    const later = uuidv7({ msecs: T });
    const earlier = uuidv7({ msecs: T - 600_000 });
    expect(earlier < later).toBe(true);
  });

  it('keep increasing when the clock steps back, and within one ms', () => {
    const ids = new MonotonicUuid7();
    const times = [T, T, T, T + 7_200_000, T + 7_200_000, T - 600_000, T - 600_000, T + 1];
    const made = times.map((t) => ids.next(t));
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    expect(ids.lastMs()).toBe(T + 7_200_000);
  });

  it('keep the time part of a clock that moves forward', () => {
    const ids = new MonotonicUuid7();
    const id = ids.next(T);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(T);
  });
});

import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../../src/scanner/backoff.js';

describe('backoffDelayMs', () => {
  it('doubles from the minimum up to the maximum', () => {
    const top = () => 0.999_999;
    const delays = [0, 1, 2, 3, 4, 5, 10, 100].map((n) => backoffDelayMs(n, 250, 5_000, top));
    expect(delays).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  it('jitters within the upper half of each step, never below the minimum', () => {
    expect(backoffDelayMs(3, 250, 5_000, () => 0)).toBe(1_000);
    expect(backoffDelayMs(0, 250, 5_000, () => 0)).toBe(250);
    for (let i = 0; i < 200; i += 1) {
      const delay = backoffDelayMs(i % 12, 250, 5_000);
      expect(delay).toBeGreaterThanOrEqual(250);
      expect(delay).toBeLessThanOrEqual(5_000);
    }
  });
});

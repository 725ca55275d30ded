import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PolledInput } from '../../../src/gpio/polled-input.js';
import { SimLineReader } from '../../../src/gpio/sim-input.js';

describe('PolledInput: debounced polling of an input line', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function input(line: SimLineReader, activeLevel: 0 | 1 = 1) {
    const changes: boolean[] = [];
    const polled = new PolledInput(line, { debounceMs: 50, pollMs: 2, activeLevel });
    return { polled, changes, onChange: (active: boolean) => changes.push(active) };
  }

  it('takes the first reading as the initial state, never as an event (G4)', async () => {
    const line = new SimLineReader(1);
    const { polled, changes, onChange } = input(line);
    expect(await polled.start(onChange)).toBe(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(changes).toEqual([]);
    expect(polled.isActive()).toBe(true);
    await polled.stop();
  });

  it('reports a line toggling 5 times in 20 ms as one change, once it has settled (G4)', async () => {
    const line = new SimLineReader(0);
    const { polled, changes, onChange } = input(line);
    await polled.start(onChange);
    for (const level of [1, 0, 1, 0, 1] as const) {
      line.set(level);
      await vi.advanceTimersByTimeAsync(4);
    }
    expect(changes).toEqual([]); // still bouncing: not settled for 50 ms yet
    await vi.advanceTimersByTimeAsync(100);
    expect(changes).toEqual([true]);
    expect(polled.isActive()).toBe(true);
    await polled.stop();
  });

  it('ignores a bounce that returns to the stable level before it settles', async () => {
    const line = new SimLineReader(0);
    const { polled, changes, onChange } = input(line);
    await polled.start(onChange);
    for (const level of [1, 0, 1, 0, 1, 0] as const) {
      line.set(level);
      await vi.advanceTimersByTimeAsync(3);
    }
    await vi.advanceTimersByTimeAsync(500);
    expect(changes).toEqual([]);
    expect(polled.isActive()).toBe(false);
    await polled.stop();
  });

  it('reports each settled change, and maps an active-low line', async () => {
    const line = new SimLineReader(1);
    const { polled, changes, onChange } = input(line, 0);
    expect(await polled.start(onChange)).toBe(false);
    line.set(0);
    await vi.advanceTimersByTimeAsync(100);
    line.set(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(changes).toEqual([true, false]);
    await polled.stop();
  });

  it('stops sampling once stopped', async () => {
    const line = new SimLineReader(0);
    const { polled, changes, onChange } = input(line);
    await polled.start(onChange);
    await polled.stop();
    line.set(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(changes).toEqual([]);
  });
});

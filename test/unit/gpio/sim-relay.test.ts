import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimRelay } from '../../../src/gpio/sim-relay.js';
import { MAX_PULSE_MS } from '../../../src/gpio/types.js';
import { silentLogger } from '../../../src/log.js';

describe('relay pulse timing (simulated driver)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is inactive after init and goes active then inactive after the pulse time', async () => {
    const relay = new SimRelay(silentLogger());
    await relay.init();
    expect(relay.changes.map((c) => c.active)).toEqual([false]);
    const pulse = relay.pulse(800);
    expect(relay.isActive()).toBe(true);
    await vi.advanceTimersByTimeAsync(799);
    expect(relay.isActive()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await pulse;
    expect(relay.changes.map((c) => c.active)).toEqual([false, true, false]);
  });

  it('extends a running pulse instead of starting a second barrier cycle', async () => {
    const relay = new SimRelay(silentLogger());
    await relay.init();
    const first = relay.pulse(500);
    await vi.advanceTimersByTimeAsync(300);
    const second = relay.pulse(500);
    await vi.advanceTimersByTimeAsync(499);
    expect(relay.isActive()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([first, second]);
    expect(relay.changes.map((c) => c.active)).toEqual([false, true, false]);
  });

  it('never holds the relay longer than the hard limit, whatever is asked', async () => {
    const relay = new SimRelay(silentLogger());
    await relay.init();
    void relay.pulse(60_000);
    await vi.advanceTimersByTimeAsync(MAX_PULSE_MS);
    expect(relay.isActive()).toBe(false);
  });

  it('off() drops a running pulse at once', async () => {
    const relay = new SimRelay(silentLogger());
    await relay.init();
    void relay.pulse(800);
    relay.off();
    expect(relay.isActive()).toBe(false);
    expect(relay.changes.at(-1)?.active).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { jitterMs } from '../../../src/link/client-options.js';
import { ConnectionSupervisor } from '../../../src/link/supervisor.js';

function supervised(rebuildAfterMs: number) {
  const state = { now: 1_000, connected: false, rebuilds: [] as number[] };
  const supervisor = new ConnectionSupervisor({
    rebuildAfterMs,
    monoMs: () => state.now,
    isConnected: () => state.connected,
    rebuild: (downMs) => state.rebuilds.push(downMs),
  });
  supervisor.start();
  return { state, supervisor };
}

describe('ConnectionSupervisor', () => {
  it('rebuilds once the client has not connected for the configured time since start', () => {
    const { state, supervisor } = supervised(120_000);
    state.now += 119_000;
    supervisor.check();
    expect(state.rebuilds).toEqual([]);
    state.now += 1_000;
    supervisor.check();
    expect(state.rebuilds).toEqual([120_000]);
    supervisor.stop();
  });

  it('counts the wait again from each rebuild, so a broker away for long gets one rebuild a period', () => {
    const { state, supervisor } = supervised(10_000);
    for (let i = 0; i < 10; i++) {
      state.now += 5_000;
      supervisor.check();
    }
    expect(state.rebuilds).toHaveLength(5);
    expect(supervisor.rebuilds).toBe(5);
    supervisor.stop();
  });

  it('never rebuilds while connected, and counts from the end of the last connection', () => {
    const { state, supervisor } = supervised(10_000);
    state.connected = true;
    state.now += 60_000;
    supervisor.check();
    state.connected = false;
    state.now += 2_000;
    supervisor.connectionEnded();
    state.now += 9_000;
    supervisor.check();
    expect(state.rebuilds).toEqual([]);
    state.now += 1_000;
    supervisor.check();
    expect(state.rebuilds).toEqual([10_000]);
    supervisor.stop();
  });
});

describe('reconnect jitter', () => {
  it('draws waits spread over the whole range, never outside it', () => {
    const waits = Array.from({ length: 1_000 }, () => jitterMs(1_000, 5_000));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1_000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(5_000);
    expect(Math.min(...waits)).toBeLessThan(1_500);
    expect(Math.max(...waits)).toBeGreaterThan(4_500);
    expect(new Set(waits).size).toBeGreaterThan(500);
  });
});

import { describe, expect, it } from 'vitest';
import { BACKLOG_AGE_MS, ReplayMarker } from '../../../src/link/replay-marker.js';

const T0 = 1_700_000_000_000;

describe('ReplayMarker', () => {
  it('does not mark events recorded before the first connection of the process (boot)', () => {
    const marker = new ReplayMarker();
    // boot recorded at T0, the first CONNACK 2 s later, published at once.
    marker.connected(T0 + 2_000);
    expect(marker.isReplay(T0, T0 + 2_010)).toBe(false);
  });

  it('marks events recorded during an outage after the first connection', () => {
    const marker = new ReplayMarker();
    marker.connected(T0);
    marker.disconnected(T0 + 1_000);
    marker.connected(T0 + 2_000);
    expect(marker.isReplay(T0 + 500, T0 + 2_010)).toBe(false);
    expect(marker.isReplay(T0 + 1_000, T0 + 2_010)).toBe(true);
    expect(marker.isReplay(T0 + 1_999, T0 + 2_010)).toBe(true);
    expect(marker.isReplay(T0 + 2_000, T0 + 2_010)).toBe(false);
  });

  it('marks an event still waiting while the link is down', () => {
    const marker = new ReplayMarker();
    marker.connected(T0);
    marker.disconnected(T0 + 1_000);
    expect(marker.isReplay(T0 + 1_500, T0 + 1_600)).toBe(true);
  });

  it('marks any event older than 5 s when published, e.g. a backlog from before a restart', () => {
    const marker = new ReplayMarker();
    marker.connected(T0);
    expect(marker.isReplay(T0 - BACKLOG_AGE_MS - 1, T0)).toBe(true);
    expect(marker.isReplay(T0 - BACKLOG_AGE_MS, T0)).toBe(false);
  });

  it('keeps every outage of a flapping link and forgets those past the backlog age', () => {
    const marker = new ReplayMarker();
    marker.connected(T0);
    for (let i = 0; i < 5; i++) {
      marker.disconnected(T0 + i * 1_000 + 100);
      marker.connected(T0 + i * 1_000 + 200);
    }
    expect(marker.isReplay(T0 + 3_150, T0 + 4_300)).toBe(true);
    expect(marker.isReplay(T0 + 3_250, T0 + 4_300)).toBe(false);
    expect((marker as unknown as { outages: unknown[] }).outages.length).toBeLessThanOrEqual(6);
  });
});

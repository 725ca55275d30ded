import { describe, expect, it } from 'vitest';
import { CONFLICT_DEFAULTS, ConflictDetector } from '../../../src/link/conflict-detector.js';

/** Feeds connections of `lastedMs` each, one every `everyMs`; returns the detections. */
function feed(detector: ConflictDetector, startMs: number, lasted: number[], everyMs = 3_000) {
  return lasted.map((lastedMs, i) => {
    const connectedAt = startMs + i * everyMs;
    return detector.connectionEnded(connectedAt, connectedAt + lastedMs);
  });
}

describe('ConflictDetector', () => {
  it('detects three connections cut within 10 s in a row, once per episode', () => {
    const detector = new ConflictDetector();
    expect(feed(detector, 0, [2_000, 3_000, 1_000, 500, 800])).toEqual([
      false,
      false,
      true,
      false,
      false,
    ]);
    expect(detector.inConflict).toBe(true);
  });

  it('backs off 60–120 s while the conflict lasts and not before', () => {
    const detector = new ConflictDetector();
    expect(detector.reconnectBounds(1_000, 5_000)).toEqual([1_000, 5_000]);
    feed(detector, 0, [1_000, 1_000, 1_000]);
    expect(detector.reconnectBounds(1_000, 5_000)).toEqual([60_000, 120_000]);
  });

  it('does not count outages broken by a normal connection or spread over more than the window', () => {
    const broken = new ConflictDetector();
    expect(feed(broken, 0, [1_000, 1_000, 30_000, 1_000, 1_000])).not.toContain(true);

    const spread = new ConflictDetector();
    // Short connections 70 s apart: never three within 2 minutes.
    expect(feed(spread, 0, [1_000, 1_000, 1_000, 1_000], 70_000)).not.toContain(true);
  });

  it('keeps the episode through connections cut by a peer that backs off too', () => {
    const detector = new ConflictDetector();
    feed(detector, 0, [1_000, 1_000, 1_000]);
    // The other gate returns every 60–120 s: our connections last that long, then are cut.
    feed(detector, 100_000, [90_000, 110_000, 65_000], 200_000);
    expect(detector.inConflict).toBe(true);
  });

  it('ends the episode after a stable connection, and can raise a new one later', () => {
    const detector = new ConflictDetector();
    feed(detector, 0, [1_000, 1_000, 1_000]);
    expect(detector.checkStable(10_000, 10_000 + CONFLICT_DEFAULTS.stableMs - 1)).toBe(false);
    expect(detector.checkStable(10_000, 10_000 + CONFLICT_DEFAULTS.stableMs)).toBe(true);
    expect(detector.inConflict).toBe(false);
    expect(detector.reconnectBounds(1_000, 5_000)).toEqual([1_000, 5_000]);
    expect(feed(detector, 1_000_000, [1_000, 1_000, 1_000])).toEqual([false, false, true]);

    // A stable connection seen only at its end also ends the episode.
    expect(detector.connectionEnded(2_000_000, 2_000_000 + CONFLICT_DEFAULTS.stableMs)).toBe(false);
    expect(detector.inConflict).toBe(false);
  });

  it('does not take connections cut by broker restarts for a conflict: a failed attempt breaks the row', () => {
    const detector = new ConflictDetector();
    const found = [0, 1, 2, 3, 4].map((i) => {
      const connectedAt = i * 3_000;
      const ended = detector.connectionEnded(connectedAt, connectedAt + 1_000);
      detector.attemptFailed();
      return ended;
    });
    expect(found).not.toContain(true);
    expect(detector.inConflict).toBe(false);
  });

  it('takes its thresholds from the options', () => {
    const detector = new ConflictDetector({ shortMs: 100, count: 2, windowMs: 1_000 });
    expect(feed(detector, 0, [50, 150, 50, 50], 200)).toEqual([false, false, false, true]);
  });
});

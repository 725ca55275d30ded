import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventDraft, EventType } from '../../../src/event.js';
import { BarrierWatch } from '../../../src/gate/barrier-watch.js';
import { silentLogger } from '../../../src/log.js';

describe('BarrierWatch: alarms from the barrier-position sensor', () => {
  let sinceRelay: number | undefined;
  let events: { type: EventType; fields: Partial<EventDraft> }[];
  let watch: BarrierWatch;

  beforeEach(() => {
    vi.useFakeTimers();
    sinceRelay = undefined;
    events = [];
    watch = new BarrierWatch(
      { heldOpenSec: 5, forcedOpenGraceMs: 3000 },
      {
        msSinceRelay: () => sinceRelay,
        recordEvent: async (type, fields) => events.push({ type, fields }),
        log: silentLogger(),
      },
    );
  });
  afterEach(() => {
    watch.stop();
    vi.useRealTimers();
  });

  const reasons = () => events.map((e) => `${e.type}:${e.fields.reason}`);

  it('raises forced_open when the barrier opens with no pulse before', () => {
    watch.initial(false);
    watch.change(true);
    expect(reasons()).toEqual(['alarm:forced_open']);
    expect(events[0]?.fields.detail).toMatch(/no relay pulse/);
  });

  it('raises forced_open when the last pulse is older than the grace time', () => {
    watch.initial(false);
    sinceRelay = 3001;
    watch.change(true);
    expect(reasons()).toEqual(['alarm:forced_open']);
  });

  it('takes an opening during or just after a pulse as expected', () => {
    watch.initial(false);
    sinceRelay = 0;
    watch.change(true);
    watch.change(false);
    sinceRelay = 2500;
    watch.change(true);
    watch.change(false);
    expect(events).toEqual([]);
  });

  it('raises held_open once per opening, and not when it closes in time', async () => {
    watch.initial(false);
    sinceRelay = 10;
    watch.change(true);
    await vi.advanceTimersByTimeAsync(4_000);
    watch.change(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(events).toEqual([]);
    watch.change(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reasons()).toEqual(['alarm:held_open']);
    watch.change(false);
    watch.change(true);
    await vi.advanceTimersByTimeAsync(5_001);
    expect(reasons()).toEqual(['alarm:held_open', 'alarm:held_open']);
  });

  it('takes a barrier open at start as no event, but times it for held_open', async () => {
    watch.initial(true);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(5_001);
    expect(reasons()).toEqual(['alarm:held_open']);
  });
});

import { describe, expect, it } from 'vitest';
import type { EventDraft } from '../../../src/event.js';
import { GateController } from '../../../src/gate/gate-controller.js';
import type { Journal } from '../../../src/gate/resilient-journal.js';
import { TrackedRelay } from '../../../src/gpio/tracked-relay.js';
import type { Relay } from '../../../src/gpio/types.js';
import { silentLogger } from '../../../src/log.js';
import { trustOf } from '../token/support.js';

describe('GateController.manualOpen: the exit button', () => {
  it('journals a manual_open event first, then pulses the relay', async () => {
    const steps: string[] = [];
    let seq = 0;
    const store = {
      record: async (draft: EventDraft) => {
        steps.push(`journal ${draft.type}`);
        seq += 1;
        return { ...draft, seq };
      },
    } as unknown as Journal;
    let active = false;
    const relay: Relay = {
      init: async () => undefined,
      pulse: async () => {
        steps.push('relay active');
        active = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
        active = false;
        return { startedMono: 0, endedMono: 5 };
      },
      off: () => undefined,
      close: async () => undefined,
      isActive: () => active,
    };
    const tracked = new TrackedRelay(relay);
    const gate = new GateController(
      { site: 'site-a', gate: 'gate-1', skewSec: 30, reopenGraceSec: 20, pulseMs: 60 },
      {
        relay: tracked,
        store,
        clock: { nowMs: () => Date.now(), monoMs: () => performance.now(), state: () => 'synced' },
        trust: trustOf([]),
        notifyOutbox: () => undefined,
        log: silentLogger(),
      },
    );
    expect(tracked.msSinceActive()).toBeUndefined();
    const { event, pulse } = await gate.manualOpen();
    expect(steps).toEqual(['journal manual_open', 'relay active']);
    expect(event).toMatchObject({ type: 'manual_open', site: 'site-a', gate: 'gate-1', seq: 1 });
    expect(pulse).toEqual({ startedMono: 0, endedMono: 5 });
    expect(tracked.msSinceActive()).toBeGreaterThanOrEqual(0);
    expect(tracked.msSinceActive()).toBeLessThan(1_000);
  });
});

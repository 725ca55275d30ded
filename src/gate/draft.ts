import { eventIds } from '../clock/monotonic-id.js';
import type { Clock } from '../clock.js';
import type { EventDraft, EventType } from '../event.js';

/** Who makes the events: the gate's site and id, as they appear in every event. */
export interface GateIdentity {
  site: string;
  gate: string;
}

/**
 * A new event of `type` made now (or at `nowMs`): a UUIDv7 id from the same time (monotonic:
 * never below an earlier id, even when the clock stepped back), the clock's
 * sync state and the gate's identity. The store gives it its `seq` when it is journaled.
 */
export function newDraft(
  identity: GateIdentity,
  clock: Clock,
  type: EventType,
  nowMs = clock.nowMs(),
): EventDraft {
  return {
    id: eventIds.next(nowMs),
    ts: nowMs,
    clock: clock.state(),
    site: identity.site,
    gate: identity.gate,
    type,
  };
}

/**
 * What the gate does with token times while its clock is not NTP-synchronised
 * (`policy.unsyncedClock`):
 * - `lenient` (default): tokens are checked against the trusted time (the system clock, but
 *   never before the persisted floor plus the monotonic time since start) with the wider
 *   `policy.unsyncedSkewSec` for nbf/iat in the future. A Pi that booted with a stale clock
 *   still admits riders whose tokens were issued a few minutes "ahead" of it.
 * - `strict`: the same trusted time with the normal `policy.skewSec`. A stale clock then denies
 *   fresh tokens as `not_yet_valid` until NTP synchronises: safer, but riders wait.
 * In both, the floor applies, events carry `clock: unsynced` and telemetry reports
 * `clock.state: unsynced`. "Refuse every token while unsynced" is deliberately not offered:
 * a gate that stays shut for everyone after a power cut is the failure the floor prevents.
 */
export type UnsyncedPolicy = 'lenient' | 'strict';

/** Skew used for nbf/iat while unsynced under `lenient`, seconds. */
export const DEFAULT_UNSYNCED_SKEW_SEC = 300;

/** The skew to check token times with, given the clock's state and the policy. */
export function effectiveSkewSec(
  synced: boolean,
  policy: UnsyncedPolicy,
  skewSec: number,
  unsyncedSkewSec: number,
): number {
  if (synced || policy === 'strict') return skewSec;
  return Math.max(skewSec, unsyncedSkewSec);
}

import { flagFileProbe, TIMESYNC_FLAG } from './clock/sync-probe.js';
import type { ClockState } from './event.js';

export type { ClockStats } from './clock/trusted-clock.js';
export { TrustedClock } from './clock/trusted-clock.js';

/** The gate's source of time. Injected so tests control it. */
export interface Clock {
  /** Wall-clock time, ms since the epoch. */
  nowMs(): number;
  /** Monotonic time, ms, for measuring durations. */
  monoMs(): number;
  /** Whether the wall clock is known to be NTP-synchronised. */
  state(): ClockState;
}

/**
 * The bare system clock, synchronisation read from systemd-timesyncd's flag file: for tools.
 * The daemon uses {@link TrustedClock} (time floor, jump detection, unsynced policy; see
 * src/clock/).
 */
export function systemClock(syncFlagPath = TIMESYNC_FLAG): Clock {
  const synced = flagFileProbe(syncFlagPath);
  return {
    nowMs: () => Date.now(),
    monoMs: () => performance.now(),
    state: () => (synced() ? 'synced' : 'unsynced'),
  };
}

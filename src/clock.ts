import { existsSync } from 'node:fs';
import type { ClockState } from './event.js';

/** The gate's source of time. Injected so tests control it. */
export interface Clock {
  /** Wall-clock time, ms since the epoch. */
  nowMs(): number;
  /** Monotonic time, ms, for measuring durations. */
  monoMs(): number;
  /** Whether the wall clock is known to be NTP-synchronised. */
  state(): ClockState;
}

/** systemd-timesyncd touches this file once the clock is synchronised. */
const TIMESYNC_FLAG = '/run/systemd/timesync/synchronized';

/**
 * The system clock. Synchronisation is read from systemd-timesyncd's flag file.
 * TODO: the time floor and jump detection of DESIGN.md "Reliability rules" are not here yet:
 * a Pi that boots with a stale clock will judge token times against that stale clock.
 */
export function systemClock(syncFlagPath = TIMESYNC_FLAG): Clock {
  return {
    nowMs: () => Date.now(),
    monoMs: () => performance.now(),
    state: () => (existsSync(syncFlagPath) ? 'synced' : 'unsynced'),
  };
}

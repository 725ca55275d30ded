import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { SyncProbe } from './sync-probe.js';
import { TimeFloorFile } from './time-floor.js';
import { type SystemTime, TrustedClock } from './trusted-clock.js';

/** Raw time sources a test may put in place of the system's (field cases C1, C2). */
export interface ClockSources {
  system?: SystemTime;
  sync?: SyncProbe;
  /** Check interval, ms (default 2000). */
  checkEveryMs?: number;
}

/**
 * The daemon's clock: floor file beside the database (`<store.path>.floor`), read now, before
 * the store opens; policy from `policy.unsyncedClock` and `policy.unsyncedSkewSec`.
 */
export function createTrustedClock(
  config: Config,
  log: Logger,
  sources: ClockSources = {},
): TrustedClock {
  const policy = config.policy;
  return new TrustedClock({
    floor: new TimeFloorFile(config.store.path),
    log,
    skewSec: policy.skewSec,
    ...(policy.unsyncedClock === undefined ? {} : { policy: policy.unsyncedClock }),
    ...(policy.unsyncedSkewSec === undefined ? {} : { unsyncedSkewSec: policy.unsyncedSkewSec }),
    ...sources,
  });
}

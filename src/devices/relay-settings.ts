import type { Config } from '../config/schema.js';
import type { RelayProfile } from './profile-schema.js';
import { devicesDir, findProfile } from './profiles.js';

/** The relay line when neither the configuration nor a profile names one: BCM 17, active high. */
export const DEFAULT_RELAY_PIN = 17;

/** The `relay` section with its line settled: pin and active level always present. */
export type RelaySettings = Config['relay'] & { pin: number; activeLow: boolean };

/**
 * The relay a gate drives: `relay.profile`'s first pin (the barrier's "open" channel) and
 * active level, then `relay.pin` and `relay.activeLow` where the configuration sets them;
 * BCM 17, active high, when neither does.
 * @param dir where profiles are read; the packaged devices/ folder by default.
 * @throws RidergateError `config_invalid`: an unknown profile, an invalid one, or a scanner one.
 */
export function resolveRelaySettings(
  relay: Config['relay'],
  dir: string = devicesDir(),
): RelaySettings {
  const board =
    relay.profile === undefined ? undefined : findRelayProfile(relay.profile, dir).relay;
  return {
    ...relay,
    pin: relay.pin ?? board?.pins[0] ?? DEFAULT_RELAY_PIN,
    activeLow: relay.activeLow ?? board?.activeLow ?? false,
  };
}

/** The relay board profile called `name`; see {@link findProfile}. */
export function findRelayProfile(name: string, dir: string = devicesDir()): RelayProfile {
  return findProfile('relay', name, dir);
}

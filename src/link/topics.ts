import { RidergateError } from '../errors.js';

/** The topics of one gate; see DESIGN.md "MQTT contract". */
export interface GateTopics {
  /** `{p}/{site}/{gate}/status`: QoS 1, retained; also the last will. */
  status: string;
  /** `{p}/{site}/{gate}/info`: QoS 1, retained. */
  info: string;
  /** `{p}/{site}/{gate}/events`: QoS 1, one event a message. */
  events: string;
  /** `{p}/{site}/{gate}/telemetry`: QoS 0. */
  telemetry: string;
  /** `{p}/{site}/{gate}/cmd`: commands from operations, QoS 1. */
  cmd: string;
  /** `{p}/{site}/{gate}/cmd/result`: command outcomes, QoS 1. */
  cmdResult: string;
}

/** The topics every gate of the fleet listens to. */
export interface FleetTopics {
  /** `{p}/_fleet/trust`: the signed trust list, retained. */
  trust: string;
  /** `{p}/_fleet/revocations/snapshot`: retained. */
  revocationSnapshot: string;
  /** `{p}/_fleet/revocations/delta`. */
  revocationDelta: string;
}

/**
 * Builds a gate's topics.
 * @param prefix e.g. `ridergate/v1`; may contain `/` but no wildcard.
 * @throws RidergateError `link_failed` when a part is empty or holds `/`, `+`, `#` or NUL.
 */
export function gateTopics(prefix: string, site: string, gate: string): GateTopics {
  const base = `${checkPrefix(prefix)}/${checkLevel('site', site)}/${checkLevel('gate', gate)}`;
  return {
    status: `${base}/status`,
    info: `${base}/info`,
    events: `${base}/events`,
    telemetry: `${base}/telemetry`,
    cmd: `${base}/cmd`,
    cmdResult: `${base}/cmd/result`,
  };
}

/** Builds the fleet-wide topics under `prefix`. */
export function fleetTopics(prefix: string): FleetTopics {
  const base = `${checkPrefix(prefix)}/_fleet`;
  return {
    trust: `${base}/trust`,
    revocationSnapshot: `${base}/revocations/snapshot`,
    revocationDelta: `${base}/revocations/delta`,
  };
}

// MQTT 3.1.1 §4.7.1: `+` and `#` are wildcards and never valid in a topic name; §1.5.3 bans NUL.
const WILDCARDS_AND_NUL = ['+', '#', String.fromCharCode(0)];

function holdsAny(value: string, chars: readonly string[]): boolean {
  return chars.some((char) => value.includes(char));
}

function checkPrefix(prefix: string): string {
  if (prefix === '' || holdsAny(prefix, WILDCARDS_AND_NUL) || prefix.endsWith('/')) {
    throw new RidergateError('link_failed', 'mqtt prefix is not a valid topic prefix', {
      context: { field: 'mqtt.prefix', value: prefix, expected: 'text without + # or a final /' },
    });
  }
  return prefix;
}

function checkLevel(field: string, value: string): string {
  if (value === '' || holdsAny(value, ['/', ...WILDCARDS_AND_NUL])) {
    throw new RidergateError('link_failed', `${field} is not a valid topic level`, {
      context: { field, value, expected: 'non-empty text without / + #' },
    });
  }
  return value;
}

import { Ajv, type ErrorObject } from 'ajv';
import { applyEnvOverrides } from '../config/env.js';
import { defaultConfigPath, mergeDeep, readYamlFile } from '../config/load.js';
import { type Config, ConfigSchema } from '../config/schema.js';
import type { RelaySettings } from '../devices/relay-settings.js';
import { resolveRelaySettings } from '../devices/relay-settings.js';
import { describeError, RidergateError } from '../errors.js';

/** The only settings `relay off` reads: which line, and which level is inactive. */
const READ = ['driver', 'profile', 'pin', 'activeLow'] as const;
type ReadKey = (typeof READ)[number];

const ajv = new Ajv({ allErrors: true, strict: false });
const relaySchema = ConfigSchema.properties.relay;
const validateRead = ajv.compile({
  type: 'object',
  properties: Object.fromEntries(READ.map((key) => [key, relaySchema.properties[key]])),
  required: ['driver'],
});
const validateSection = ajv.compile(relaySchema);

/**
 * The relay line for `relay off`, the service's stop hook: after a watchdog SIGKILL mid-pulse
 * it is the only thing that returns the relay to inactive, so it reads just `relay.driver`,
 * `relay.profile`, `relay.pin` and `relay.activeLow` (file, then RIDERGATE_RELAY_ variables)
 * and passes over everything else, each problem there reported through `warn`.
 * @throws RidergateError `config_invalid` saying the relay was NOT driven and why, when the
 *   line cannot be told: the file unreadable or not YAML, or one of those four settings invalid.
 */
export function loadRelayOffSettings(
  path: string,
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void,
): RelaySettings {
  const notDriven = (why: string, cause?: unknown): RidergateError =>
    new RidergateError('config_invalid', `the relay was NOT driven: ${why}`, { cause });
  let merged: Record<string, unknown>;
  try {
    merged = mergeDeep(mergeDeep({}, readYamlFile(defaultConfigPath())), readYamlFile(path));
  } catch (err) {
    throw notDriven(`cannot tell which pin to drive: ${describeError(err)}`, err);
  }
  const raw = merged.relay;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw notDriven(
      `${path}: relay: expected a mapping (driver:, pin:, ...), got ${JSON.stringify(raw)}`,
    );
  const section = raw as Record<string, unknown>;
  const relay: Record<string, unknown> = {};
  for (const key of READ) if (key in section) relay[key] = section[key];
  applyRelayVariables(relay, env, notDriven);

  if (!validateRead(relay)) {
    const problems = (validateRead.errors ?? []).map((e) => issue(e, relay));
    throw notDriven(`${path}: cannot tell which pin to drive: ${problems.join('; ')}`);
  }
  if (!validateSection({ pulseMs: 1000, ...section })) {
    const others = (validateSection.errors ?? []).filter((e) => !concernsRead(e));
    for (const e of others)
      warn(`relay off ignores ${issue(e, section)} (it reads only relay.${READ.join(', relay.')})`);
  }
  try {
    return resolveRelaySettings({ pulseMs: 1000, ...relay } as Config['relay']);
  } catch (err) {
    throw notDriven(`${path}: cannot tell which pin to drive: ${describeError(err)}`, err);
  }
}

/** RIDERGATE_RELAY_DRIVER, _PROFILE, _PIN, _ACTIVE_LOW; other RIDERGATE_ variables are passed over. */
function applyRelayVariables(
  relay: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  notDriven: (why: string, cause?: unknown) => RidergateError,
): void {
  for (const key of READ) {
    const name = `RIDERGATE_RELAY_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined) continue;
    const target: Record<string, unknown> = {};
    try {
      applyEnvOverrides(target, { [name]: raw }, ['relay']);
    } catch (err) {
      throw notDriven(`cannot tell which pin to drive: ${describeError(err)}`, err);
    }
    const value = (target.relay as Record<string, unknown> | undefined)?.[key];
    if (value !== undefined) relay[key] = value;
  }
}

function concernsRead(e: ErrorObject): boolean {
  const field = e.instancePath.split('/')[1];
  return field !== undefined && (READ as readonly string[]).includes(field as ReadKey);
}

function issue(e: ErrorObject, root: Record<string, unknown>): string {
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    return `relay.${extra}: unknown setting (got ${JSON.stringify(root[extra])?.slice(0, 80)})`;
  }
  if (e.keyword === 'required') {
    const missing = String((e.params as { missingProperty: string }).missingProperty);
    return `relay.${missing}: missing`;
  }
  const field = e.instancePath.slice(1).replaceAll('/', '.');
  const got = JSON.stringify(root[field])?.slice(0, 80);
  return `relay.${field}: got ${got}; ${e.message ?? 'invalid'}`;
}

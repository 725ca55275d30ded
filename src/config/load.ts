import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { RidergateError } from '../errors.js';
import { type Config, ConfigSchema } from './schema.js';

/** Largest configuration file accepted, bytes. */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** Where the daemon looks when no --config is given. */
export const DEFAULT_CONFIG_PATH = '/etc/ridergate/config.yaml';
const ENV_PREFIX = 'RIDERGATE_';

/** The packaged defaults, config/default.yaml, found relative to this file (src or dist). */
export function defaultConfigPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'config', 'default.yaml');
}

export interface LoadedConfig {
  config: Config;
  /** Short SHA-256 of the merged configuration, reported in `info`. */
  hash: string;
}

/**
 * Loads config/default.yaml, merges the file at `path` over it, then RIDERGATE_ environment
 * overrides, and validates the result. All problems are reported at once.
 * @throws RidergateError `config_unreadable` or `config_invalid`
 */
export function loadConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig {
  const base = readYamlFile(defaultConfigPath());
  const user = path === undefined ? {} : readYamlFile(path);
  const merged = mergeDeep(mergeDeep({}, base), user);
  applyEnvOverrides(merged, env);
  const config = validateConfig(merged, path ?? defaultConfigPath());
  const hash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
  return { config, hash };
}

/** Parses one YAML file into a plain object, with a bound on its size. */
export function readYamlFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_CONFIG_BYTES) {
      throw new RidergateError(
        'config_unreadable',
        `${path}: file is ${bytes.length} bytes; the limit is ${MAX_CONFIG_BYTES}`,
      );
    }
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof RidergateError) throw err;
    throw new RidergateError(
      'config_unreadable',
      `${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: err },
    );
  }
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new RidergateError(
      'config_unreadable',
      `${path}: not valid YAML: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new RidergateError(
      'config_unreadable',
      `${path}: the top level must be a mapping of sections (gate:, scanner:, ...)`,
    );
  }
  return value;
}

/**
 * Applies RIDERGATE_<SECTION>_<KEY> variables: RIDERGATE_RELAY_PULSE_MS=500 sets relay.pulseMs.
 * Values are read as YAML scalars, so numbers and booleans keep their type.
 */
export function applyEnvOverrides(target: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const parts = name.slice(ENV_PREFIX.length).toLowerCase().split('_');
    const [section, ...rest] = parts;
    if (section === undefined || rest.length === 0) continue;
    const key = rest.map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1))).join('');
    const existing = target[section];
    const sectionObj = isPlainObject(existing) ? existing : {};
    sectionObj[key] = parseScalar(raw);
    target[section] = sectionObj;
  }
}

function parseScalar(raw: string): unknown {
  try {
    const value: unknown = parseYaml(raw);
    return typeof value === 'object' && value !== null ? raw : value;
  } catch {
    return raw;
  }
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validate = ajv.compile<Config>(ConfigSchema);

/** Validates a merged configuration object; the error lists every problem, one per line. */
export function validateConfig(value: unknown, source: string): Config {
  if (validate(value)) return value;
  const issues = (validate.errors ?? []).filter((e) => e.keyword !== 'const');
  const lines = issues.map((e) => describeIssue(e, value));
  const unique = [...new Set(lines)];
  throw new RidergateError(
    'config_invalid',
    `${source}: invalid configuration:\n  ${unique.join('\n  ')}`,
    {
      context: { problems: unique },
    },
  );
}

function describeIssue(e: ErrorObject, root: unknown): string {
  const field = e.instancePath.slice(1).replaceAll('/', '.') || '(top level)';
  const got = JSON.stringify(lookup(root, e.instancePath));
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      return `${field === '(top level)' ? '' : `${field}.`}${extra}: unknown setting; remove it or check its spelling`;
    }
    case 'required':
      return `${field === '(top level)' ? '' : `${field}.`}${String((e.params as { missingProperty: string }).missingProperty)}: missing; it must be set`;
    case 'anyOf':
      return `${field}: got ${got}; ${unionHint(e)}`;
    default:
      return `${field}: got ${got}; ${e.message ?? 'invalid'}`;
  }
}

function unionHint(e: ErrorObject): string {
  const schema = e.parentSchema as { anyOf?: { const?: unknown }[] } | undefined;
  const options = schema?.anyOf?.map((s) => JSON.stringify(s.const)).filter((s) => s !== undefined);
  return options && options.length > 0
    ? `expected one of ${options.join(', ')}`
    : 'not an allowed value';
}

function lookup(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const part of pointer.split('/').slice(1)) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Deep-merges plain objects; arrays and scalars from `over` replace those in `into`. */
export function mergeDeep(
  into: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  for (const [key, value] of Object.entries(over)) {
    const current = into[key];
    if (isPlainObject(value) && isPlainObject(current)) {
      into[key] = mergeDeep({ ...current }, value);
    } else {
      into[key] = isPlainObject(value) ? mergeDeep({}, value) : value;
    }
  }
  return into;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

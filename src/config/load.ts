import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { resolveRelaySettings } from '../devices/relay-settings.js';
import { resolveScannerSettings, scannerConfigProblems } from '../devices/scanner-settings.js';
import { describeError, isRidergateError, RidergateError } from '../errors.js';
import { readBoundedFile } from '../files.js';
import { applyEnvOverrides, envVariableOf } from './env.js';
import { fieldLineFinder } from './field-lines.js';
import { type Config, ConfigSchema } from './schema.js';
import { shownValue } from './shown-value.js';
import { closestName } from './suggest.js';

/** Largest configuration file accepted, bytes. */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** Where the daemon looks when no --config is given. */
export const DEFAULT_CONFIG_PATH = '/etc/ridergate/config.yaml';

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
  const user = path === undefined ? undefined : readYamlSource(path);
  const merged = mergeDeep(mergeDeep({}, base), user?.value ?? {});
  // Bad variables and bad settings of the file are reported together, in one run.
  let envProblem: RidergateError | undefined;
  try {
    applyEnvOverrides(merged, env);
  } catch (err) {
    if (!isRidergateError(err, 'config_invalid')) throw err;
    envProblem = err;
  }
  let valid: Config;
  try {
    valid = validateConfig(merged, path ?? defaultConfigPath(), origin(path, user?.text, env));
  } catch (err) {
    if (envProblem === undefined || !isRidergateError(err, 'config_invalid')) throw err;
    throw new RidergateError('config_invalid', `${envProblem.message}\n${err.message}`, {
      context: { problems: [envProblem.context.problems, err.context.problems].flat() },
    });
  }
  if (envProblem !== undefined) throw envProblem;
  // The relay line as the gate drives it: relay.profile's pin and level unless set (checked above).
  const config = { ...valid, relay: resolveRelaySettings(valid.relay) };
  const hash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
  return { config, hash };
}

/**
 * Loads and validates one section only, ignoring problems elsewhere in the file. For commands
 * that must work whatever else is wrong, above all `relay off` in the service's stop hook.
 * @throws RidergateError `config_unreadable`, or `config_invalid` for that section's fields.
 */
export function loadConfigSection<K extends keyof Config>(
  path: string,
  section: K,
  env: NodeJS.ProcessEnv = process.env,
): Config[K] {
  const base = readYamlFile(defaultConfigPath());
  const merged = mergeDeep(mergeDeep({}, base), readYamlFile(path));
  applyEnvOverrides(merged, env, [section]);
  const validateSection = ajv.compile<Config[K]>(ConfigSchema.properties[section]);
  const value = merged[section];
  if (validateSection(value)) return value;
  const problems = (validateSection.errors ?? [])
    .filter((e) => e.keyword !== 'const')
    .map((e) => `${section}.${describeIssue(e, value).replace(/^\(top level\)\.?/, '')}`);
  throw new RidergateError(
    'config_invalid',
    `${path}: invalid ${section} settings:\n  ${[...new Set(problems)].join('\n  ')}`,
    {
      context: { problems },
    },
  );
}

/**
 * Where a setting came from, for the end of its error line: ` (FILE line N)` when the file
 * writes it, ` (from RIDERGATE_X)` when a variable set it; '' for a packaged default.
 */
function origin(
  path: string | undefined,
  text: string | undefined,
  env: NodeJS.ProcessEnv,
): (field: string) => string {
  const lineOf = text === undefined ? () => undefined : fieldLineFinder(text);
  return (field) => {
    const variable = envVariableOf(field, env);
    if (variable !== undefined) return ` (from ${variable})`;
    const line = lineOf(field);
    return line === undefined ? '' : ` (${path} line ${line})`;
  };
}

/** Parses one YAML file into a plain object, with a bound on its size. */
export function readYamlFile(path: string): Record<string, unknown> {
  return readYamlSource(path).value;
}

/** {@link readYamlFile}, also returning the text it parsed (for line numbers in errors). */
/**
 * The YAML parser's message on one line: its first line ("… at line 2, column 9") and the
 * line of the file it points at, instead of its multi-line excerpt with a caret, so that the
 * error reads as one line on a terminal and in the journal.
 */
function yamlProblem(err: unknown, text: string): string {
  const first = (describeError(err).split('\n')[0] ?? '').replace(/:\s*$/, '');
  const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
  const source = line === undefined ? undefined : text.split('\n')[line - 1]?.trim();
  if (source === undefined || source === '') return first;
  const shown = source.length > 60 ? `${source.slice(0, 59)}…` : source;
  return `${first}: ${JSON.stringify(shown)}`;
}

function readYamlSource(path: string): { value: Record<string, unknown>; text: string } {
  const text = readBoundedFile(path, {
    maxBytes: MAX_CONFIG_BYTES,
    code: 'config_unreadable',
    what: 'configuration file',
  }).toString('utf8');
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new RidergateError(
      'config_unreadable',
      `${path}: not valid YAML: ${yamlProblem(err, text)}`,
      {
        cause: err,
      },
    );
  }
  if (value === null || value === undefined) return { value: {}, text };
  if (isCircular(value)) {
    throw new RidergateError(
      'config_unreadable',
      `${path}: a YAML alias refers to the mapping or list it stands in; a configuration cannot contain itself`,
    );
  }
  if (!isPlainObject(value)) {
    throw new RidergateError(
      'config_unreadable',
      `${path}: the top level must be a mapping of sections (gate:, scanner:, ...)`,
    );
  }
  return { value, text };
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validate = ajv.compile<Config>(ConfigSchema);

/**
 * Validates a merged configuration object; the error lists every problem, one per line, each
 * naming the setting, the value found and what is expected.
 * @param origin text appended to the line of a setting: where it was written (file and line).
 */
export function validateConfig(
  value: unknown,
  source: string,
  origin: (field: string) => string = () => '',
): Config {
  const valid = validate(value);
  const issues = (validate.errors ?? []).filter((e) => e.keyword !== 'const');
  const lines = valid ? crossFieldProblems(value) : issues.map((e) => describeIssue(e, value));
  if (valid && lines.length === 0) return value;
  const unique = [...new Set(lines)].map((line) => line + origin(line.split(':')[0] ?? ''));
  throw new RidergateError(
    'config_invalid',
    `${source}: invalid configuration:\n  ${unique.join('\n  ')}`,
    {
      context: { problems: unique },
    },
  );
}

/** The id every unconfigured gate would share (config/default.yaml). */
const PLACEHOLDER_ID = 'change-me';

/** Problems a schema cannot express: placeholders left in, ranges between two settings. */
function crossFieldProblems(config: Config): string[] {
  const problems: string[] = [];
  for (const field of ['site', 'id'] as const) {
    if (config.gate[field] === PLACEHOLDER_ID) {
      problems.push(
        `gate.${field}: still "${PLACEHOLDER_ID}"; set this gate's ${field === 'site' ? 'site id' : 'gate id'} (two gates sharing an id fight over the broker)`,
      );
    }
  }
  if (config.scanner.reconnectMinMs > config.scanner.reconnectMaxMs) {
    problems.push(
      `scanner.reconnectMinMs: ${config.scanner.reconnectMinMs} is above scanner.reconnectMaxMs ${config.scanner.reconnectMaxMs}; the minimum wait must not exceed the maximum`,
    );
  }
  problems.push(...scannerProblems(config.scanner));
  problems.push(...relayProblems(config.relay));
  problems.push(...inputPinProblems(config));
  if (config.mqtt.passwordFile !== undefined && config.mqtt.username === undefined) {
    // MQTT 3.1.1 §3.1.2.9: a password without a user name is a protocol violation.
    problems.push(
      `mqtt.passwordFile: set to ${JSON.stringify(config.mqtt.passwordFile)} but mqtt.username is missing; MQTT sends no password without a user name, so set mqtt.username too`,
    );
  }
  const urlProblem = brokerUrlProblem(config.mqtt.url);
  if (urlProblem !== undefined) {
    problems.push(
      `mqtt.url: got ${shownValue('url', config.mqtt.url)}; ${urlProblem}, e.g. mqtt://broker.example:1883`,
    );
  }
  return problems;
}

/** The scanner's profile must exist and be valid, and a tcp scanner needs host and port. */
function scannerProblems(scanner: Config['scanner']): string[] {
  const direct = scannerConfigProblems(scanner);
  if (direct.length > 0) return direct;
  try {
    resolveScannerSettings(scanner);
    return [];
  } catch (err) {
    return [describeError(err).replaceAll('\n', ' ')];
  }
}

/** The relay profile, when named, must exist and be a valid relay board. */
function relayProblems(relay: Config['relay']): string[] {
  try {
    resolveRelaySettings(relay);
    return [];
  } catch (err) {
    return [describeError(err).replaceAll('\n', ' ')];
  }
}

/** The sensor and the button each need a pin of their own, neither the relay's. */
function inputPinProblems(config: Config): string[] {
  const problems: string[] = [];
  let relayPin: number | undefined;
  try {
    relayPin = resolveRelaySettings(config.relay).pin;
  } catch {
    relayPin = config.relay.pin;
  }
  const sensor = config.inputs?.sensor?.pin;
  const button = config.inputs?.button?.pin;
  for (const [field, pin] of [
    ['inputs.sensor.pin', sensor],
    ['inputs.button.pin', button],
  ] as const) {
    if (pin !== undefined && pin === relayPin)
      problems.push(
        `${field}: got ${pin}; that is the relay's pin; wire the input to a pin of its own`,
      );
  }
  if (sensor !== undefined && sensor === button)
    problems.push(
      `inputs.button.pin: got ${button}; that is inputs.sensor.pin; each input needs a pin of its own`,
    );
  return problems;
}

/** What is wrong with a broker URL whose scheme the schema accepted, if anything. */
function brokerUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // new URL() refuses a port over 65535 as it refuses a URL without a host.
    const port = /^[a-z]+:\/\/[^/:]+:(\d+)/i.exec(url)?.[1];
    return port !== undefined && Number(port) > 65_535
      ? `port ${port} is over 65535`
      : 'it names no broker host';
  }
  return parsed.hostname === '' ? 'it names no broker host' : undefined;
}

/** What a field's pattern means, for fields whose pattern alone would read as a riddle. */
const PATTERN_HINTS: Readonly<Record<string, string>> = {
  'mqtt.prefix': 'a topic prefix holds no + or # (they are MQTT wildcards), e.g. ridergate/v1',
};

function describeIssue(e: ErrorObject, root: unknown): string {
  const field = e.instancePath.slice(1).replaceAll('/', '.') || '(top level)';
  const got = shownValue(field, lookup(root, e.instancePath));
  switch (e.keyword) {
    case 'additionalProperties':
      return unknownSetting(e, root, field);
    case 'required':
      return `${field === '(top level)' ? '' : `${field}.`}${String((e.params as { missingProperty: string }).missingProperty)}: missing; it must be set`;
    case 'anyOf':
      return `${field}: got ${got}; ${unionHint(e)}`;
    case 'pattern':
      return `${field}: got ${got}; ${PATTERN_HINTS[field] ?? e.message ?? 'invalid'}`;
    case 'type':
      // YAML reads `id: 0017` as the number 17: the fix is quotes.
      return (e.params as { type?: string }).type === 'string' &&
        typeof lookup(root, e.instancePath) === 'number'
        ? `${field}: got ${got}, a number; must be text: put it in quotes in YAML (e.g. "0017") to keep it as written`
        : `${field}: got ${got}; ${e.message ?? 'invalid'}`;
    default:
      return `${field}: got ${got}; ${e.message ?? 'invalid'}`;
  }
}

/** `relay.pulseMS: unknown setting (got 500); did you mean relay.pulseMs?` */
function unknownSetting(e: ErrorObject, root: unknown, field: string): string {
  const extra = String((e.params as { additionalProperty: string }).additionalProperty);
  const prefix = field === '(top level)' ? '' : `${field}.`;
  const got = shownValue(extra, lookup(root, `${e.instancePath}/${extra}`), 80);
  const known = Object.keys(
    (e.parentSchema as { properties?: object } | undefined)?.properties ?? {},
  );
  const near = closestName(extra, known);
  const hint = known.includes(`${extra}File`)
    ? `a secret is never written in the configuration: put it in a file (mode 0600) and set ${prefix}${extra}File to its path`
    : near === undefined
      ? `remove it or check its spelling (known here: ${known.join(', ')})`
      : `did you mean ${prefix}${near}?`;
  return `${prefix}${extra}: unknown setting (got ${got}); ${hint}`;
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

/** True when a parsed YAML value contains itself (an alias such as `a: &a [*a]`). */
function isCircular(value: unknown, path: Set<unknown> = new Set()): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (path.has(value)) return true;
  path.add(value);
  const children = Array.isArray(value) ? value : Object.values(value);
  const found = children.some((child) => isCircular(child, path));
  path.delete(value);
  return found;
}

import { RidergateError } from '../errors.js';
import { ConfigSchema } from './schema.js';
import { looksSecret, shownValue } from './shown-value.js';
import { closestName } from './suggest.js';

const ENV_PREFIX = 'RIDERGATE_';

type SettingSchema = { type?: string; anyOf?: { const?: unknown }[] };

/**
 * Applies RIDERGATE_<SECTION>_<KEY> variables: RIDERGATE_RELAY_PULSE_MS=500 sets relay.pulseMs.
 * Each value is converted by the type its setting has in the schema, so `RIDERGATE_GATE_ID=0017`
 * stays the text "0017" and `RIDERGATE_GATE_NAME='Gate #2'` keeps its `#`.
 * @param only when given, only variables of these sections are applied (others are ignored).
 * @throws RidergateError `config_invalid` naming every variable that has no setting or a bad value.
 */
export function applyEnvOverrides(
  target: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  only?: readonly string[],
): void {
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const [section, ...rest] = name.slice(ENV_PREFIX.length).toLowerCase().split('_');
    if (section === undefined || (only !== undefined && !only.includes(section))) continue;
    const key = rest.map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1))).join('');
    const found = settingsByVariable().get(name);
    if (found === undefined) {
      if (looksSecret(key) && settingSchema(section, `${key}File`) !== undefined) {
        problems.push(
          `${name}: a secret is never set by a variable here: write it to a file (mode 0600) and set ${section}.${key}File; the operations tools (cmd sign, revocations sign, watch) read OPS_MQTT_PASSWORD`,
        );
        continue;
      }
      const group = `${section}.${key}`;
      const member = allVariables().find(([, path]) => path.startsWith(`${group}.`));
      if (key !== '' && member !== undefined) {
        problems.push(
          `${name}: ${group} is a group of settings; set each one, e.g. ${member[0]} (${member[1]})`,
        );
        continue;
      }
      const near = closestVariable(name);
      problems.push(
        `${name}: no setting ${section}.${key || '(none)'} exists; ${near === undefined ? 'remove the variable or check its spelling' : `did you mean ${near}?`}`,
      );
      continue;
    }
    const leaf = found.path.at(-1) ?? key;
    const value = convert(raw, found.schema);
    if (value === undefined) {
      problems.push(
        `${name}: got ${shownValue(leaf, raw)}; expected ${describeType(found.schema)} for ${found.path.join('.')}`,
      );
      continue;
    }
    setAt(target, found.path, value);
  }
  if (problems.length > 0) {
    throw new RidergateError(
      'config_invalid',
      `environment: invalid RIDERGATE_ variables:\n  ${problems.join('\n  ')}`,
      {
        context: { problems },
      },
    );
  }
}

function settingSchema(section: string, key: string): SettingSchema | undefined {
  const sections = ConfigSchema.properties as Record<
    string,
    { properties?: Record<string, SettingSchema> }
  >;
  return Object.hasOwn(sections, section) ? sections[section]?.properties?.[key] : undefined;
}

function convert(raw: string, setting: SettingSchema): unknown {
  switch (setting.type) {
    case 'integer':
      return /^-?\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    default:
      return raw;
  }
}

function describeType(setting: SettingSchema): string {
  if (setting.type === 'integer') return 'a whole number';
  if (setting.type === 'boolean') return 'true or false';
  return 'text';
}

/** A setting a variable can set: a single value, at any depth (`inputs.sensor.pin`). */
interface EnvSetting {
  variable: string;
  path: string[];
  schema: SettingSchema;
}

type NodeSchema = SettingSchema & { properties?: Record<string, NodeSchema> };

/** `pulseMs` → `PULSE_MS`. */
function upperSnake(key: string): string {
  return key.replace(/([A-Z])/g, '_$1').toUpperCase();
}

/**
 * Every single-valued setting, as the variable that sets it: RIDERGATE_RELAY_PULSE_MS sets
 * relay.pulseMs, RIDERGATE_INPUTS_SENSOR_PIN sets inputs.sensor.pin. A group of settings
 * (an object) has no variable of its own: its members do.
 */
function allSettings(): EnvSetting[] {
  const out: EnvSetting[] = [];
  const walk = (path: string[], schema: NodeSchema) => {
    if (schema.type === 'object' && schema.properties !== undefined) {
      for (const [key, child] of Object.entries(schema.properties)) walk([...path, key], child);
      return;
    }
    out.push({ variable: `${ENV_PREFIX}${path.map(upperSnake).join('_')}`, path, schema });
  };
  for (const [section, schema] of Object.entries(
    ConfigSchema.properties as Record<string, NodeSchema>,
  ))
    walk([section], schema);
  return out;
}

let byVariable: Map<string, EnvSetting> | undefined;

function settingsByVariable(): Map<string, EnvSetting> {
  byVariable ??= new Map(allSettings().map((setting) => [setting.variable, setting]));
  return byVariable;
}

/** Every setting a variable can set, as `[variable, dotted path]`. */
function allVariables(): [string, string][] {
  return [...settingsByVariable().values()].map((s) => [s.variable, s.path.join('.')]);
}

/** Sets `value` at `path` in `target`, making the objects on the way. */
function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    const obj =
      typeof next === 'object' && next !== null && !Array.isArray(next)
        ? (next as Record<string, unknown>)
        : {};
    node[key] = obj;
    node = obj;
  }
  const leaf = path.at(-1);
  if (leaf !== undefined) node[leaf] = value;
}

/** `RIDERGATE_RELAY_PULSE_MS (relay.pulseMs)` for a misspelled variable, or undefined. */
function closestVariable(name: string): string | undefined {
  const squash = (v: string) => v.toUpperCase().replaceAll('_', '');
  const variables = allVariables();
  const near = closestName(
    squash(name),
    variables.map(([v]) => squash(v)),
  );
  const found = variables.find(([v]) => squash(v) === near);
  return found === undefined ? undefined : `${found[0]} (${found[1]})`;
}

/** The RIDERGATE_ variable in `env` that sets `field` (`relay.pulseMs`), if any. */
export function envVariableOf(field: string, env: NodeJS.ProcessEnv): string | undefined {
  const found = allVariables().find(([v, f]) => f === field && env[v] !== undefined);
  return found?.[0];
}

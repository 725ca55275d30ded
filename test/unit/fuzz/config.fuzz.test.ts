import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig, validateConfig } from '../../../src/config/load.js';
import { isRidergateError } from '../../../src/errors.js';

/** A configuration every check accepts, as a technician would write it. */
const VALID: Record<string, Record<string, unknown>> = {
  gate: { site: 'north', id: 'g1' },
  scanner: {
    driver: 'sim',
    path: 'sim',
    baudRate: 9600,
    terminator: 'auto',
    maxLength: 1024,
    dedupeMs: 0,
    reconnectMinMs: 100,
    reconnectMaxMs: 1000,
  },
  relay: { driver: 'sim', pin: 17, pulseMs: 50 },
  store: { path: '/tmp/ridergate-fuzz.db', retentionDays: 90 },
  mqtt: { url: 'mqtt://localhost:1883', prefix: 'ridergate/v1', telemetrySec: 60 },
  trust: { rootKeyFile: '/tmp/root.pub.json', file: '/tmp/trust.jws' },
  policy: { skewSec: 30, reopenGraceSec: 20 },
  log: { level: 'silent' },
};

const FIELDS = Object.entries(VALID).flatMap(([section, values]) =>
  Object.keys(values).map((key) => [section, key] as const),
);

/** A valid configuration with a few fields (or whole sections) replaced by arbitrary values. */
const mutatedConfig = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(...FIELDS),
        fc.tuple(fc.constantFrom(...Object.keys(VALID)), fc.string({ maxLength: 12 })),
      ),
      fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.integer(),
        fc.double(),
        fc.string({ maxLength: 20 }),
      ),
      fc.boolean(),
    ),
    { maxLength: 3 },
  )
  .map((changes) => {
    const config: Record<string, unknown> = structuredClone(VALID);
    for (const [[section, key], value, wholeSection] of changes) {
      if (wholeSection && key.length % 4 === 0) config[section] = value;
      else config[section] = { ...(config[section] as object), [key]: value };
    }
    return config;
  });

/** What a configuration loader may answer: a Config, or config_invalid / config_unreadable. */
function expectConfigOrConfigError(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!isRidergateError(err, 'config_invalid') && !isRidergateError(err, 'config_unreadable')) {
      throw new Error(`unexpected error: ${String(err)}`, { cause: err });
    }
    expect(err.message.length).toBeGreaterThan(0);
  }
}

describe('validateConfig (property)', () => {
  it('accepts the valid base configuration', () => {
    expect(validateConfig(structuredClone(VALID), 'fuzz').gate.site).toBe('north');
  });

  it('arbitrary JSON-like values: a Config or config_invalid, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue()), (value) => {
        expectConfigOrConfigError(() => validateConfig(value, 'fuzz'));
      }),
      { numRuns: 1000 },
    );
  });

  it('a valid configuration with fields replaced: a Config or config_invalid', () => {
    fc.assert(
      fc.property(mutatedConfig, (value) => {
        expectConfigOrConfigError(() => validateConfig(value, 'fuzz'));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('loadConfig: findings of the properties, as examples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-config-finding-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Found by the properties below: a YAML alias referring to itself once crashed the loader
  // with a TypeError (circular structure) instead of a configuration error.
  it.each([
    ['an unknown top-level key', 'a: &a [*a]\n'],
    ['a known section', 'gate: &g { site: north, id: g1, loop: *g }\n'],
  ])(
    'a self-referencing YAML alias in %s is a configuration error, not a TypeError',
    (_name, yaml) => {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, yaml);
      expect(() => loadConfig(file, {})).toThrow(
        expect.objectContaining({
          code: 'config_unreadable',
          message: expect.stringContaining('a YAML alias refers to'),
        }),
      );
    },
  );
});

describe('loadConfig on arbitrary YAML files (property)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-config-fuzz-'));
  const file = join(dir, 'config.yaml');
  // The yaml package reports an unknown tag (e.g. `!!js/function`) as a process warning; keep
  // hundreds of them out of the test output (they do not change what loadConfig answers).
  beforeAll(() => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterAll(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const yamlSnippets = fc.constantFrom(
    'gate: &a { site: x, id: y }\nrelay: *a\n',
    '<<: { gate: 1 }\n',
    'gate: !!js/function "function(){}"\n',
    'gate: !!binary aGVsbG8=\n',
    'gate: { site: north, id: g1, site: south }\n',
    '%YAML 1.1\n---\ngate: { site: 0x1F, id: 1e3 }\n',
    '---\n---\n',
    'scanner: { maxLength: .inf }\n',
    'relay: { pulseMs: 1_000 }\n',
    '? [a]\n: b\n',
    `x: ${'['.repeat(200)}${']'.repeat(200)}\n`,
  );
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ maxLength: 200 }),
    mutatedConfig.map((c) => stringify(c)),
    fc.tuple(mutatedConfig, yamlSnippets).map(([c, s]) => stringify(c) + s),
    yamlSnippets,
  );

  it('either a Config or config_invalid / config_unreadable, never anything else', () => {
    fc.assert(
      fc.property(text, (yaml) => {
        writeFileSync(file, yaml);
        expectConfigOrConfigError(() => loadConfig(file, {}));
      }),
      { numRuns: 600 },
    );
  });

  it('with arbitrary RIDERGATE_ environment variables as well', () => {
    const env = fc.dictionary(
      fc.constantFrom(
        'RIDERGATE_RELAY_PULSE_MS',
        'RIDERGATE_GATE_ID',
        'RIDERGATE_SCANNER_MAX_LENGTH',
        'RIDERGATE_MQTT_URL',
        'RIDERGATE_',
        'RIDERGATE__',
        'RIDERGATE_GATE',
        'RIDERGATE_CONSTRUCTOR_PROTOTYPE',
        'RIDERGATE___PROTO___X',
      ),
      fc.string({ maxLength: 12 }),
      { maxKeys: 3 },
    );
    fc.assert(
      fc.property(mutatedConfig, env, (config, vars) => {
        writeFileSync(file, stringify(config));
        expectConfigOrConfigError(() => loadConfig(file, vars));
      }),
      { numRuns: 400 },
    );
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

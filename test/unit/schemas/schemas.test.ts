import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTrustList } from '../../../src/trust/trust-list.js';
import {
  describeErrors,
  loadValidators,
  SCHEMA_NAMES,
  SCHEMAS_DIR,
  schemaForGateTopic,
  strictAjv,
} from '../../helpers/schemas.js';

const DOC = join(SCHEMAS_DIR, '..', 'docs', 'mqtt.md');

interface Examples {
  valid: unknown[];
  invalid: unknown[];
}

function examples(name: string): Examples {
  return JSON.parse(readFileSync(join(SCHEMAS_DIR, 'examples', `${name}.json`), 'utf8'));
}

/** The JSON blocks of docs/mqtt.md marked `<!-- schema: name -->` on the line before. */
function documentedExamples(): { name: string; value: unknown; line: number }[] {
  const lines = readFileSync(DOC, 'utf8').split('\n');
  const found: { name: string; value: unknown; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- schema: ([a-z-]+) -->$/.exec(lines[i] ?? '');
    if (marker === null) continue;
    expect(lines[i + 1], `${DOC}:${i + 2} must open a json block`).toBe('```json');
    const end = lines.indexOf('```', i + 2);
    const text = lines.slice(i + 2, end).join('\n');
    found.push({ name: marker[1] as string, value: JSON.parse(text), line: i + 1 });
  }
  return found;
}

describe('payload schemas', () => {
  const validators = loadValidators();

  it('has one schema for every payload, each compiling in ajv strict mode', () => {
    expect([...validators.keys()].sort()).toEqual([...SCHEMA_NAMES].sort());
  });

  it('refuses a schema with an unknown keyword (strict mode is on)', () => {
    expect(() => strictAjv().compile({ type: 'object', propertys: {} })).toThrow(/unknown keyword/);
  });

  for (const name of SCHEMA_NAMES) {
    it(`${name}: accepts its valid examples and refuses its invalid ones`, () => {
      const validate = validators.get(name);
      if (validate === undefined) throw new Error(`no schema ${name}`);
      const { valid, invalid } = examples(name);
      expect(valid.length).toBeGreaterThan(0);
      expect(invalid.length).toBeGreaterThan(0);
      for (const [i, value] of valid.entries()) {
        expect(validate(value), `${name} valid[${i}]: ${describeErrors(validate.errors)}`).toBe(
          true,
        );
      }
      for (const [i, value] of invalid.entries()) {
        expect(validate(value), `${name} invalid[${i}] was accepted`).toBe(false);
      }
    });
  }

  it('validates every example in docs/mqtt.md, with at least one for each payload', () => {
    const documented = documentedExamples();
    expect(new Set(documented.map((d) => d.name))).toEqual(new Set(SCHEMA_NAMES));
    for (const { name, value, line } of documented) {
      const validate = validators.get(name);
      expect(validate, `docs/mqtt.md:${line} names no schema "${name}"`).toBeDefined();
      expect(validate?.(value), `docs/mqtt.md:${line}: ${describeErrors(validate?.errors)}`).toBe(
        true,
      );
    }
  });

  it('agrees with the gate on trust lists: what the schema accepts, the gate loads', () => {
    const validate = validators.get('trust-list');
    for (const doc of examples('trust-list').valid) {
      const { operators: _operators, ...withoutOperators } = doc as Record<string, unknown>;
      expect(validate?.(doc)).toBe(true);
      expect(buildTrustList(withoutOperators).version).toBeGreaterThan(0);
    }
  });

  it('maps every gate topic to its schema and nothing else', () => {
    const p = 'ridergate/v1';
    expect(schemaForGateTopic(p, `${p}/north/g1/status`)).toBe('status');
    expect(schemaForGateTopic(p, `${p}/north/g1/info`)).toBe('info');
    expect(schemaForGateTopic(p, `${p}/north/g1/events`)).toBe('event');
    expect(schemaForGateTopic(p, `${p}/north/g1/telemetry`)).toBe('telemetry');
    expect(schemaForGateTopic(p, `${p}/north/g1/cmd/result`)).toBe('cmd-result');
    expect(schemaForGateTopic(p, `${p}/north/g1/debug`)).toBeUndefined();
    expect(schemaForGateTopic(p, 'other/north/g1/status')).toBeUndefined();
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/** The repository's `schemas/` folder. */
export const SCHEMAS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');

/** Every payload schema of docs/mqtt.md, by name (file `schemas/<name>.schema.json`). */
export const SCHEMA_NAMES = [
  'status',
  'info',
  'event',
  'telemetry',
  'cmd-result',
  'command',
  'trust-list',
  'revocation-snapshot',
  'revocation-delta',
] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** Ajv in strict mode (unknown keywords, formats and ambiguous types are errors). */
export function strictAjv(): Ajv2020 {
  return new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
}

/** Compiles every schema file under schemas/; throws on the first that does not compile. */
export function loadValidators(): Map<string, ValidateFunction> {
  const ajv = strictAjv();
  const validators = new Map<string, ValidateFunction>();
  for (const file of readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.schema.json'))) {
    const schema: unknown = JSON.parse(readFileSync(join(SCHEMAS_DIR, file), 'utf8'));
    validators.set(file.replace('.schema.json', ''), ajv.compile(schema as object));
  }
  return validators;
}

/**
 * The schema of what a gate publishes on `topic` under `prefix`, or undefined for a topic
 * that is not in the contract (the caller should treat that as a failure).
 */
export function schemaForGateTopic(prefix: string, topic: string): SchemaName | undefined {
  if (!topic.startsWith(`${prefix}/`)) return undefined;
  const levels = topic.slice(prefix.length + 1).split('/');
  if (levels.length === 3) {
    const byLeaf: Record<string, SchemaName> = {
      status: 'status',
      info: 'info',
      events: 'event',
      telemetry: 'telemetry',
    };
    return byLeaf[levels[2] ?? ''];
  }
  if (levels.length === 4 && levels[2] === 'cmd' && levels[3] === 'result') return 'cmd-result';
  return undefined;
}

/** Ajv errors as one line each: `/path: message`. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}`).join('; ');
}

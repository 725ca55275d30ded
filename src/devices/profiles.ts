import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { readYamlFile } from '../config/load.js';
import { describeError, RidergateError } from '../errors.js';
import {
  type DeviceProfile,
  ProfileHeaderSchema,
  type RelayProfile,
  RelayProfileSchema,
  type ScannerProfile,
  ScannerProfileSchema,
} from './profile-schema.js';

/** The packaged profiles, devices/ at the top of the project, found from this file (src or dist). */
export function devicesDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'devices');
}

/** What {@link loadProfiles} found: the valid profiles, and one line per problem. */
export interface LoadedProfiles {
  /** Valid profiles, sorted by kind then name. */
  profiles: DeviceProfile[];
  /** Every problem of every file, each naming the file and the field. */
  problems: string[];
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validators = {
  header: ajv.compile<Static<typeof ProfileHeaderSchema>>(ProfileHeaderSchema),
  scanner: ajv.compile<ScannerProfile>(ScannerProfileSchema),
  relay: ajv.compile<RelayProfile>(RelayProfileSchema),
};

/** The profile files of `dir`: its `*.yaml` files, sorted; none when `dir` does not exist. */
export function profileFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => join(dir, name));
}

/** Reads and validates every profile in `dir`, reporting all problems of all files at once. */
export function loadProfiles(dir: string = devicesDir()): LoadedProfiles {
  const profiles: DeviceProfile[] = [];
  const problems: string[] = [];
  for (const file of profileFiles(dir)) {
    const result = loadProfileFile(file);
    if (result.profile !== undefined) profiles.push(result.profile);
    problems.push(...result.problems);
  }
  profiles.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  return { profiles, problems };
}

/**
 * Reads and validates one profile file: YAML, the schema of its `kind` (all errors at once),
 * its name equal to the file name, and for a relay board one distinct pin per channel.
 * Never throws: an unreadable file is one problem.
 */
export function loadProfileFile(file: string): { profile?: DeviceProfile; problems: string[] } {
  let value: Record<string, unknown>;
  try {
    value = readYamlFile(file);
  } catch (err) {
    return { problems: [describeError(err)] };
  }
  const header = validators.header;
  if (!header(value)) return { problems: issues(file, header.errors, value) };
  const validate = validators[value.kind];
  if (!validate(value)) return { problems: issues(file, validate.errors, value) };
  const profile = value as DeviceProfile;
  const problems = crossFieldProblems(file, profile);
  return problems.length === 0 ? { profile, problems } : { problems };
}

/**
 * The profile of `kind` called `name` in `dir` (the file `name`.yaml), validated.
 * @throws RidergateError `config_invalid` naming the `<kind>.profile` setting and either the
 *   profiles of that kind there are or every problem of its file.
 */
export function findProfile<K extends DeviceProfile['kind']>(
  kind: K,
  name: string,
  dir: string = devicesDir(),
): Extract<DeviceProfile, { kind: K }> {
  const file = join(dir, `${name}.yaml`);
  if (!existsSync(file)) {
    const known = loadProfiles(dir).profiles.filter((p) => p.kind === kind);
    throw new RidergateError(
      'config_invalid',
      `${kind}.profile: got ${JSON.stringify(name)}; no such ${kind} profile in ${dir}; known: ${known.map((p) => p.name).join(', ') || '(none)'} (ridergate devices lists them)`,
      { context: { profile: name, dir } },
    );
  }
  const { profile, problems } = loadProfileFile(file);
  if (profile === undefined || profile.kind !== kind) {
    const why =
      profile === undefined ? problems : [`${file}: kind: is "${profile.kind}", not "${kind}"`];
    throw new RidergateError(
      'config_invalid',
      `${kind}.profile: ${JSON.stringify(name)} is not a valid ${kind} profile:\n  ${why.join('\n  ')}`,
      { context: { profile: name, problems: why } },
    );
  }
  return profile as Extract<DeviceProfile, { kind: K }>;
}

/** The scanner profile called `name`; see {@link findProfile}. */
export function findScannerProfile(name: string, dir: string = devicesDir()): ScannerProfile {
  return findProfile('scanner', name, dir);
}

function crossFieldProblems(file: string, profile: DeviceProfile): string[] {
  const problems: string[] = [];
  const expected = basename(file, '.yaml');
  if (profile.name !== expected) {
    problems.push(
      `${file}: name: got ${JSON.stringify(profile.name)}; it must equal the file name ("${expected}")`,
    );
  }
  if (profile.kind === 'relay') {
    const { channels, pins } = profile.relay;
    if (pins.length !== channels)
      problems.push(
        `${file}: relay.pins: ${pins.length} pin(s) for ${channels} channel(s); give one BCM pin per channel`,
      );
    if (new Set(pins).size !== pins.length)
      problems.push(`${file}: relay.pins: got ${JSON.stringify(pins)}; a pin is listed twice`);
  }
  return problems;
}

/** One line per schema error: `file: field: got VALUE; what is expected`. */
function issues(
  file: string,
  errors: ErrorObject[] | null | undefined,
  root: Record<string, unknown>,
): string[] {
  const lines = (errors ?? [])
    .filter((e) => e.keyword !== 'const') // each branch of a union; its anyOf error says it all
    .map((e) => `${file}: ${describeIssue(e, root)}`);
  return [...new Set(lines)];
}

function describeIssue(e: ErrorObject, root: unknown): string {
  const field = e.instancePath.slice(1).replaceAll('/', '.');
  const prefix = field === '' ? '' : `${field}.`;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${prefix}${String(e.params.additionalProperty)}: unknown field; remove it or check its spelling`;
    case 'required':
      return `${prefix}${String(e.params.missingProperty)}: missing; it must be set`;
    case 'anyOf':
      return `${field}: got ${JSON.stringify(lookup(root, e.instancePath))}; expected one of ${allowed(e)}`;
    default:
      return `${field || '(top level)'}: got ${JSON.stringify(lookup(root, e.instancePath))}; ${e.message ?? 'invalid'}`;
  }
}

function allowed(e: ErrorObject): string {
  const schema = e.parentSchema as TSchema | undefined;
  const options = (schema?.anyOf as { const?: unknown }[] | undefined) ?? [];
  return options.map((s) => JSON.stringify(s.const)).join(', ');
}

function lookup(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const part of pointer.split('/').slice(1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

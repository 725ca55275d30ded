import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ID_PATTERN, ID_RULE } from '../config/ids.js';
import { type ErrorCode, RidergateError } from '../errors.js';
import { readBoundedFile, statOrThrow } from '../files.js';
import type { IssuerPolicy, TokenAlg, TrustedKey, TrustView } from '../token/types.js';
import { importPublicJwk, parseTime, Time } from './key-entry.js';
import { type OperatorKey, OperatorSchema, toOperatorKeys } from './operators.js';

/*
 * The trust list document: its schema and how it becomes a TrustView. A gate only accepts it
 * inside a JWS signed by the fleet root key (signed-trust-list.ts); the plain document is read
 * by tools (`token verify --trust`, `trust sign`).
 */

/** Default largest exp − iat of an issuer's tokens, seconds. */
export const DEFAULT_MAX_LIFETIME_SEC = 300;
/** Largest trust list file read, bytes. */
export const MAX_TRUST_LIST_BYTES = 1024 * 1024;
/**
 * Highest trust list version: the largest integer every JSON reader holds exactly (2^53 - 1).
 * Above it `9007199254740993` reads as `…992` and `1e300` passes for an integer, and a gate that
 * took such a list would refuse every later one as "not newer". Date-style versions
 * (YYYYMMDDHHMM) stay well below it.
 */
export const MAX_TRUST_VERSION = Number.MAX_SAFE_INTEGER;

const KeySchema = T.Object(
  {
    kid: T.String({ minLength: 1, maxLength: 64 }),
    alg: T.Unsafe<TokenAlg>({ type: 'string', enum: ['EdDSA', 'ES256'] }),
    jwk: T.Object({ kty: T.String() }, { additionalProperties: true }),
    notBefore: T.Optional(Time),
    notAfter: T.Optional(Time),
  },
  { additionalProperties: false },
);

const IssuerSchema = T.Object(
  {
    iss: T.String({ minLength: 1, maxLength: 256 }),
    maxLifetimeSec: T.Optional(T.Integer({ minimum: 1, maximum: 86_400 })),
    // Site ids as the configuration has them (gate.site); any other text matches no gate.
    sites: T.Optional(T.Array(T.String({ pattern: ID_PATTERN }), { maxItems: 10_000 })),
    keys: T.Array(KeySchema, { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);

/** The trust list document (before the signed-JWS wrapper exists). */
export const TrustListSchema = T.Object(
  {
    version: T.Integer({ minimum: 1, maximum: MAX_TRUST_VERSION }),
    /** When operations issued this version; informational. */
    issuedAt: T.Optional(Time),
    issuers: T.Array(IssuerSchema, { maxItems: 1000 }),
    /** Operations keys: they sign commands and revocation lists (src/trust/operators.ts). */
    operators: T.Optional(T.Array(OperatorSchema, { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type TrustListDoc = Static<typeof TrustListSchema>;

/** A loaded trust list. */
export interface TrustList {
  /** The document's version; a gate refuses to go back to a lower one. */
  version: number;
  view: TrustView;
  issuers: IssuerPolicy[];
  keys: TrustedKey[];
  /** Operations keys, by kid; none when the list has no `operators` section. */
  operators: ReadonlyMap<string, OperatorKey>;
}

const validate = new Ajv({ allErrors: true, strict: true, verbose: true }).compile<TrustListDoc>(
  TrustListSchema,
);

/**
 * Loads a trust list file (YAML or JSON) and validates it. All problems are reported at once.
 * @throws RidergateError `trust_invalid` naming the file, each wrong field and its fix.
 */
export function loadTrustList(file: string): TrustList {
  return buildTrustList(readTrustDocument(file), file);
}

/**
 * Reads a plain trust list document (YAML or JSON) without validating it.
 * @param readCode the code when the file cannot be read: `usage` for a file given to a tool.
 * @throws RidergateError `readCode` when the file cannot be read; `trust_invalid` when it is not
 * YAML or JSON.
 */
export function readTrustDocument(file: string, readCode: ErrorCode = 'trust_invalid'): unknown {
  const text = readTrustFile(file, readCode);
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : 'parse error';
    throw new RidergateError('trust_invalid', `${file}: not valid YAML or JSON: ${why}`, {
      cause: err,
    });
  }
  return doc;
}

/**
 * Reads a trust list file with its bounds: size limit, and refused when every user may write it.
 * @throws RidergateError `code` (default `trust_invalid`)
 */
export function readTrustFile(file: string, code: ErrorCode = 'trust_invalid'): string {
  const stat = statOrThrow(file, { code, what: 'trust list' });
  if (stat.isFile() && stat.mode & 0o002) {
    throw new RidergateError(
      code,
      `${file}: the trust list is writable by every user; run chmod o-w on it`,
    );
  }
  return readBoundedFile(file, {
    maxBytes: MAX_TRUST_LIST_BYTES,
    code,
    what: 'trust list',
  }).toString('utf8');
}

/**
 * Builds a trust list from an in-memory document (tests, the demo, a decoded JWS).
 * @param source names the document in error messages.
 * @throws RidergateError `trust_invalid` listing every problem found.
 */
export function buildTrustList(doc: unknown, source = 'trust list'): TrustList {
  if (!validate(doc)) {
    throw invalid(source, describeSchemaErrors(validate.errors ?? []));
  }
  const problems: string[] = [];
  const issuers: IssuerPolicy[] = [];
  const keys: TrustedKey[] = [];
  doc.issuers.forEach((entry, i) => {
    const where = `issuers[${i}]`;
    if (issuers.some((p) => p.iss === entry.iss)) {
      problems.push(`${where}.iss: "${entry.iss}" appears twice; merge the two entries`);
    }
    issuers.push(toPolicy(entry));
    entry.keys.forEach((k, j) => {
      const key = toTrustedKey(entry.iss, k, `${where}.keys[${j}]`, problems);
      if (key === undefined) return;
      if (keys.some((o) => o.iss === key.iss && o.kid === key.kid)) {
        problems.push(
          `${where}.keys[${j}].kid: "${key.kid}" appears twice for ${entry.iss}; give each key its own kid`,
        );
      }
      keys.push(key);
    });
  });
  const operators = toOperatorKeys(doc.operators ?? [], problems);
  if (problems.length > 0) throw invalid(source, problems);
  return { version: doc.version, view: createTrustView(issuers, keys), issuers, keys, operators };
}

/** Same as `buildTrustList(doc).view`: a TrustView from an in-memory document. */
export function trustViewFrom(doc: unknown, source?: string): TrustView {
  return buildTrustList(doc, source).view;
}

function toPolicy(entry: TrustListDoc['issuers'][number]): IssuerPolicy {
  const policy: IssuerPolicy = {
    iss: entry.iss,
    maxLifetimeSec: entry.maxLifetimeSec ?? DEFAULT_MAX_LIFETIME_SEC,
  };
  if (entry.sites !== undefined) policy.sites = [...entry.sites];
  return policy;
}

type KeyEntry = Static<typeof KeySchema>;

/** Checks one key entry beyond the schema; pushes problems and returns undefined on any. */
function toTrustedKey(
  iss: string,
  k: KeyEntry,
  where: string,
  problems: string[],
): TrustedKey | undefined {
  const before = problems.length;
  const publicKey = importPublicJwk(k, where, problems);
  const notBeforeSec = parseTime(k.notBefore, `${where}.notBefore`, problems);
  const notAfterSec = parseTime(k.notAfter, `${where}.notAfter`, problems);
  if (notBeforeSec !== undefined && notAfterSec !== undefined && notAfterSec <= notBeforeSec) {
    problems.push(`${where}.notAfter: must be later than notBefore; fix the key's validity window`);
  }
  if (publicKey === undefined || problems.length > before) return undefined;
  const key: TrustedKey = { iss, kid: k.kid, alg: k.alg, publicKey };
  if (notBeforeSec !== undefined) key.notBeforeSec = notBeforeSec;
  if (notAfterSec !== undefined) key.notAfterSec = notAfterSec;
  return key;
}

function createTrustView(issuers: IssuerPolicy[], keys: TrustedKey[]): TrustView {
  const byIss = new Map(issuers.map((p) => [p.iss, p]));
  const byIssKid = new Map<string, Map<string, TrustedKey>>();
  for (const key of keys) {
    const kids = byIssKid.get(key.iss) ?? new Map<string, TrustedKey>();
    kids.set(key.kid, key);
    byIssKid.set(key.iss, kids);
  }
  return {
    issuer: (iss) => byIss.get(iss),
    key: (iss, kid) => byIssKid.get(iss)?.get(kid),
  };
}

function invalid(source: string, problems: string[]): RidergateError {
  const lines = problems.map((p) => `  - ${p}`).join('\n');
  return new RidergateError('trust_invalid', `${source}: the trust list is invalid:\n${lines}`, {
    context: { source, problems },
  });
}

/** Schema errors as lines; the branch errors under an anyOf are folded into that anyOf. */
function describeSchemaErrors(errors: ErrorObject[]): string[] {
  const anyOfPaths = new Set(
    errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath),
  );
  const kept = errors.filter((e) => e.keyword === 'anyOf' || !anyOfPaths.has(e.instancePath));
  return [...new Set(kept.map(describeSchemaError))];
}

/** One schema error as "field: what is wrong; fix". */
function describeSchemaError(e: ErrorObject): string {
  const field = fieldPath(e.instancePath);
  const at = field === '' ? '' : `${field}.`;
  switch (e.keyword) {
    case 'required':
      return `${at}${String(e.params.missingProperty)}: missing; add it`;
    case 'additionalProperties':
      return `${at}${String(e.params.additionalProperty)}: unknown field; remove it or fix its spelling`;
    case 'enum':
      return `${field}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    case 'anyOf':
      return `${field}: must be an ISO 8601 time (2026-01-01T00:00:00Z) or epoch seconds`;
    case 'pattern':
      return `${field}: ${JSON.stringify(e.data).slice(0, 80)} is not a site id (${ID_RULE})`;
    case 'maximum':
      return `${field}: ${String(e.data)} is over the largest allowed, ${String(e.params.limit)}${field === 'version' ? ' (2^53 - 1: above it JSON numbers lose digits)' : ''}`;
    default:
      return `${field === '' ? '(top level)' : field}: ${e.message ?? 'is invalid'}`;
  }
}

/** "/issuers/0/keys/1/alg" → "issuers[0].keys[1].alg" */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) =>
      /^\d+$/.test(part) ? `[${part}]` : `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`,
    )
    .join('')
    .replace(/^\./, '');
}

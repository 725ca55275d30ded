import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import type { RevocationEntry } from '../command/command-types.js';
import { RidergateError } from '../errors.js';
import type { LoadedKey } from '../token/keys.js';
import { type OperatorKey, operatorKeyValid } from '../trust/operators.js';

/** The JWS `typ` of a revocation list, so no other signed document can pass for one. */
export const REVOCATIONS_JWS_TYPE = 'ridergate-revocations+jws';

/** Default largest revocation document (the compact JWS as received), bytes: 64 MiB. */
export const DEFAULT_MAX_REVOCATION_BYTES = 64 * 1024 * 1024;

/** A verified revocation document. */
export type RevocationDoc =
  | { kind: 'snapshot'; seq: number; issuedAt: number; entries: RevocationEntry[] }
  | {
      kind: 'delta';
      seq: number;
      issuedAt: number;
      add: RevocationEntry[];
      remove: RevocationEntry[];
    };

/** What checking a revocation document needs. */
export interface RevocationDocContext {
  operator: (kid: string) => OperatorKey | undefined;
  nowSec: number;
  skewSec: number;
  /** Default {@link DEFAULT_MAX_REVOCATION_BYTES}. */
  maxBytes?: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const HEX = /^([0-9a-fA-F]{2}){1,64}$/;

/**
 * Verifies a signed revocation snapshot or delta: size, `typ`, an operations key allowed to
 * sign revocations (same alg), the signature, then every field and entry.
 * @throws RidergateError `revocation_invalid` saying what is wrong (and for entries, which).
 */
export async function verifyRevocationDoc(
  payload: Buffer | string,
  ctx: RevocationDocContext,
): Promise<RevocationDoc> {
  const maxBytes = ctx.maxBytes ?? DEFAULT_MAX_REVOCATION_BYTES;
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (bytes > maxBytes) {
    throw invalid(`${bytes} bytes, over the limit of ${maxBytes} (revocations.maxBytes)`);
  }
  const text = (typeof payload === 'string' ? payload : payload.toString('latin1')).trim();
  if (!COMPACT_JWS.test(text)) throw invalid('not a compact JWS');
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(text) as Record<string, unknown>;
  } catch {
    throw invalid('the JWS header is not JSON');
  }
  if (header.typ !== REVOCATIONS_JWS_TYPE) {
    throw invalid(`typ is ${JSON.stringify(header.typ)}, expected "${REVOCATIONS_JWS_TYPE}"`);
  }
  const kid = typeof header.kid === 'string' ? header.kid : '';
  const key = ctx.operator(kid);
  if (key === undefined || !operatorKeyValid(key, 'revocations', ctx.nowSec, ctx.skewSec)) {
    throw invalid(`kid ${kid.slice(0, 64)} is no operations key for revocations in the trust list`);
  }
  let body: Uint8Array;
  try {
    body = (await compactVerify(text, key.publicKey, { algorithms: [key.alg] })).payload;
  } catch {
    throw invalid(`the signature does not verify with operations key ${key.kid} (${key.alg})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw invalid('the signed payload is not JSON');
  }
  return readDoc(doc);
}

/**
 * Checks a revocation document's fields and entries (no signature).
 * @throws RidergateError `revocation_invalid`
 */
export function readDoc(doc: unknown): RevocationDoc {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('not an object');
  const d = doc as Record<string, unknown>;
  const seq = d.seq;
  const issuedAt = d.issuedAt;
  if (!Number.isSafeInteger(seq) || (seq as number) < 0)
    throw invalid('seq: expected a whole number ≥ 0');
  if (!Number.isSafeInteger(issuedAt) || (issuedAt as number) < 0) {
    throw invalid('issuedAt: expected epoch seconds');
  }
  const head = { seq: seq as number, issuedAt: issuedAt as number };
  if (d.kind === 'snapshot') {
    onlyKeys(d, ['kind', 'seq', 'issuedAt', 'entries']);
    return { kind: 'snapshot', ...head, entries: readEntries(d.entries, 'entries') };
  }
  if (d.kind === 'delta') {
    onlyKeys(d, ['kind', 'seq', 'issuedAt', 'add', 'remove']);
    return {
      kind: 'delta',
      ...head,
      add: readEntries(d.add ?? [], 'add'),
      remove: readEntries(d.remove ?? [], 'remove'),
    };
  }
  throw invalid(`kind: ${JSON.stringify(d.kind)?.slice(0, 40)}, expected "snapshot" or "delta"`);
}

function onlyKeys(d: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(d).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw invalid(`${extra.slice(0, 40)}: unknown field`);
}

function readEntries(value: unknown, field: string): RevocationEntry[] {
  if (!Array.isArray(value)) throw invalid(`${field}: expected an array`);
  return value.map((e, i) => readEntry(e, `${field}[${i}]`));
}

/** One `{ iss, sub | cti, until? }`; cti is kept in lowercase. */
function readEntry(e: unknown, where: string): RevocationEntry {
  if (typeof e !== 'object' || e === null || Array.isArray(e))
    throw invalid(`${where}: expected an object`);
  const r = e as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (k !== 'iss' && k !== 'sub' && k !== 'cti' && k !== 'until')
      throw invalid(`${where}.${k.slice(0, 40)}: unknown field`);
  }
  if (!isText(r.iss)) throw invalid(`${where}.iss: expected text of 1–256 characters`);
  let entry: RevocationEntry;
  if (r.sub !== undefined && r.cti === undefined && isText(r.sub)) {
    entry = { iss: r.iss, kind: 'sub', value: r.sub };
  } else if (
    r.cti !== undefined &&
    r.sub === undefined &&
    typeof r.cti === 'string' &&
    HEX.test(r.cti)
  ) {
    entry = { iss: r.iss, kind: 'cti', value: r.cti.toLowerCase() };
  } else {
    throw invalid(`${where}: expected exactly one of sub (text) or cti (hex)`);
  }
  if (r.until !== undefined) {
    if (!Number.isSafeInteger(r.until) || (r.until as number) < 0)
      throw invalid(`${where}.until: expected epoch seconds`);
    entry.untilSec = r.until as number;
  }
  return entry;
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 256;
}

function invalid(detail: string): RidergateError {
  return new RidergateError('revocation_invalid', `revocation list refused: ${detail}`, {
    context: { detail },
  });
}

/** An entry as the wire carries it: `{ iss, sub | cti, until? }`. */
export function entryToWire(e: RevocationEntry): Record<string, unknown> {
  return {
    iss: e.iss,
    [e.kind]: e.value,
    ...(e.untilSec === undefined ? {} : { until: e.untilSec }),
  };
}

/**
 * Signs a revocation document (checked first, as a gate would) with an operations key.
 * @throws RidergateError `revocation_invalid`
 */
export async function signRevocationDoc(doc: unknown, key: LoadedKey): Promise<string> {
  readDoc(doc);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(doc)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: REVOCATIONS_JWS_TYPE })
    .sign(key.key);
}

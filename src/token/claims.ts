import { RidergateError } from '../errors.js';
import { failed, type Parsed, parsed } from './result.js';
import type { TokenClaims } from './types.js';

/** CWT claim keys (RFC 8392 section 4) and the RP1 private claim `sites`. */
export const CLAIM = {
  iss: 1,
  sub: 2,
  exp: 4,
  nbf: 5,
  iat: 6,
  cti: 7,
  sites: -70001,
} as const;

/** Longest text claim or site id accepted, characters. */
export const MAX_TEXT_CHARS = 256;

/**
 * Type-checks a decoded CWT claims map into TokenClaims. Claims not used by RP1 are ignored.
 * Times must be non-negative integers (RFC 8392 NumericDate, without fractions).
 * Never throws; a wrong or missing claim gives a detail naming the claim.
 */
export function parseClaims(value: unknown): Parsed<TokenClaims> {
  if (!(value instanceof Map)) return failed('payload is not a CWT claims map');
  const iss = value.get(CLAIM.iss);
  if (!isShortText(iss))
    return failed(`claim iss (1) is missing, empty, not text or over ${MAX_TEXT_CHARS} characters`);
  const sub = readSub(value.get(CLAIM.sub));
  if (sub === undefined) {
    return failed(
      `claim sub (2) is missing, empty, or not text of up to ${MAX_TEXT_CHARS} characters or bytes of up to 128`,
    );
  }
  const cti = value.get(CLAIM.cti);
  if (!(cti instanceof Uint8Array) || cti.length === 0 || cti.length > 64) {
    return failed('claim cti (7) is missing or not a byte string of 1 to 64 bytes');
  }
  const times = readTimes(value);
  if (!times.ok) return times;
  const sites = readSites(value);
  if (!sites.ok) return sites;
  const claims: TokenClaims = { iss, sub, ...times.value, cti: Buffer.from(cti).toString('hex') };
  if (sites.value !== undefined) claims.sites = sites.value;
  return parsed(claims);
}

function isShortText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT_CHARS;
}

/** sub is text as is, or a byte string shown as lowercase hex. */
function readSub(v: unknown): string | undefined {
  if (isShortText(v)) return v;
  if (v instanceof Uint8Array && v.length > 0 && v.length <= 128) {
    return Buffer.from(v).toString('hex');
  }
  return undefined;
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function readTimes(map: Map<unknown, unknown>): Parsed<Pick<TokenClaims, 'exp' | 'iat' | 'nbf'>> {
  const exp = map.get(CLAIM.exp);
  if (!isTime(exp)) return failed('claim exp (4) is missing or not an integer time');
  const iat = map.get(CLAIM.iat);
  if (!isTime(iat)) return failed('claim iat (6) is missing or not an integer time');
  const nbf = map.get(CLAIM.nbf);
  if (nbf === undefined) return parsed({ exp, iat });
  if (!isTime(nbf)) return failed('claim nbf (5) is not an integer time');
  return parsed({ exp, iat, nbf });
}

function readSites(map: Map<unknown, unknown>): Parsed<string[] | undefined> {
  const sites = map.get(CLAIM.sites);
  if (sites === undefined) return parsed(undefined);
  if (!Array.isArray(sites) || !sites.every(isShortText)) {
    return failed('claim sites (-70001) is not an array of text');
  }
  return parsed([...sites]);
}

/** Claims as an issuer gives them; byte-valued claims are raw bytes. */
export interface ClaimsInput {
  iss: string;
  /** Text, or bytes for a binary rider id. */
  sub: string | Uint8Array;
  exp: number;
  iat: number;
  nbf?: number;
  cti: Uint8Array;
  sites?: string[];
}

/**
 * Builds the CWT claims map for signing. Checks the same rules `parseClaims` applies, so
 * an issued token never fails as malformed.
 * @throws RidergateError `token_invalid` naming the claim that is wrong.
 */
export function buildClaimsMap(input: ClaimsInput): Map<number, unknown> {
  const map = new Map<number, unknown>([
    [CLAIM.iss, input.iss],
    [CLAIM.sub, input.sub],
    [CLAIM.exp, input.exp],
    [CLAIM.iat, input.iat],
    [CLAIM.cti, input.cti],
  ]);
  if (input.nbf !== undefined) map.set(CLAIM.nbf, input.nbf);
  if (input.sites !== undefined) map.set(CLAIM.sites, input.sites);
  const check = parseClaims(map);
  if (!check.ok) throw new RidergateError('token_invalid', `cannot issue token: ${check.detail}`);
  return map;
}

import { decodeBase45 } from './base45.js';
import { decodeCbor } from './cbor.js';
import { parseClaims } from './claims.js';
import { type CoseSign1, parseSign1, verifySign1 } from './cose.js';
import {
  describeClaims,
  describeKey,
  describeLifetime,
  describeSign1,
  describeSite,
  describeTimes,
} from './describe.js';
import type {
  DenyReason,
  IssuerPolicy,
  TokenClaims,
  TrustedKey,
  VerifyOptions,
  VerifyResult,
} from './types.js';

/** Every RP1 token's QR text starts with this. */
export const TOKEN_PREFIX = 'RP1:';

/**
 * Longest token text accepted, characters (prefix included). A real token is about 200;
 * the bound keeps decoding cost fixed whatever a scanner sends.
 */
export const MAX_TOKEN_CHARS = 1024;

/** Skew used when a caller leaves `skewSec` out, seconds (VerifyOptions documents it). */
const DEFAULT_SKEW_SEC = 30;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

type Deny = Extract<VerifyResult, { ok: false }>;

function deny(reason: DenyReason, detail: string, claims?: TokenClaims): Deny {
  return claims === undefined
    ? { ok: false, reason, detail }
    : { ok: false, reason, detail, claims };
}

/** The checks of `verifyToken`, in the order they run (`explainToken` lists them by name). */
export const CHECKS = [
  'prefix',
  'base45',
  'cose_sign1',
  'claims',
  'key',
  'signature',
  'times',
  'lifetime',
  'site',
] as const;
export type CheckName = (typeof CHECKS)[number];

/**
 * Told of each check that passes (or is left out), with a function describing what it found.
 * The description is only built when the observer asks for it, so `verifyToken` pays nothing.
 */
export type CheckObserver = (
  check: CheckName,
  outcome: 'pass' | 'skipped',
  found: () => string,
) => void;

/** VerifyOptions for `runChecks`; without `site` the site check is left out (tools only). */
export type CheckOptions = Omit<VerifyOptions, 'site'> & { site?: string };

const IGNORE: CheckObserver = () => undefined;

/**
 * Verifies one scanned text as an RP1 rider token (DESIGN.md "The rider token"). The checks
 * run in this order and the first failure decides: prefix and size, base45 and CBOR
 * (`malformed`), key (`unknown_key`), signature (`bad_signature`), nbf/iat (`not_yet_valid`),
 * exp (`expired`), lifetime (`lifetime_too_long`), site (`wrong_site`). Revocation and replay
 * are the gate's checks, not this function's.
 *
 * Never throws, whatever the input; `detail` never contains the token text.
 */
export function verifyToken(text: string, opts: VerifyOptions): VerifyResult {
  return runChecks(text, opts, IGNORE);
}

/**
 * The checks of `verifyToken`, telling `observe` of each one that passes. `explainToken`
 * uses this, so an explanation and a gate's decision can never differ. Never throws.
 */
export function runChecks(text: string, opts: CheckOptions, observe: CheckObserver): VerifyResult {
  try {
    return verifyChecked(text, opts, observe);
  } catch {
    // Every step is written not to throw; this is the last wall for a scanner-facing path.
    return deny('malformed', 'token could not be processed');
  }
}

function verifyChecked(text: string, opts: CheckOptions, observe: CheckObserver): VerifyResult {
  const decoded = decodeToken(text, observe);
  if (!decoded.ok) return decoded;
  const { msg, kid, claims } = decoded;

  const found = findKey(msg, kid, claims, opts);
  if (!found.ok) return found;
  observe('key', 'pass', () => describeKey(found.key, opts.nowSec));

  if (!verifySign1(msg, found.key.publicKey)) {
    return deny('bad_signature', 'signature does not verify with the trusted key', claims);
  }
  observe('signature', 'pass', () => `${msg.alg} signature verifies with the trusted key`);

  const timeDeny = checkTimes(claims, opts);
  if (timeDeny !== undefined) return timeDeny;
  observe('times', 'pass', () =>
    describeTimes(claims, opts.nowSec, opts.skewSec ?? DEFAULT_SKEW_SEC),
  );

  const lifetimeDeny = checkLifetime(claims, found.issuer);
  if (lifetimeDeny !== undefined) return lifetimeDeny;
  observe('lifetime', 'pass', () => describeLifetime(claims, found.issuer));

  if (opts.site === undefined) {
    observe('site', 'skipped', () => 'no site given');
  } else {
    const siteDeny = checkSite(claims, found.issuer, opts.site);
    if (siteDeny !== undefined) return siteDeny;
    const site = opts.site;
    observe('site', 'pass', () => describeSite(site, claims, found.issuer));
  }

  return { ok: true, claims, kid: found.key.kid, alg: msg.alg };
}

type Decoded = { ok: true; msg: CoseSign1; kid: Uint8Array; claims: TokenClaims } | Deny;

/** Prefix, size, base45, COSE_Sign1 and claims: every failure here is `malformed`. */
function decodeToken(text: string, observe: CheckObserver): Decoded {
  if (typeof text !== 'string' || !text.startsWith(TOKEN_PREFIX)) {
    return deny('malformed', `text does not start with ${TOKEN_PREFIX}`);
  }
  if (text.length > MAX_TOKEN_CHARS) {
    return deny('malformed', `text is longer than ${MAX_TOKEN_CHARS} characters`);
  }
  observe(
    'prefix',
    'pass',
    () => `starts with ${TOKEN_PREFIX}, ${text.length} characters (limit ${MAX_TOKEN_CHARS})`,
  );

  const bytes = decodeBase45(text.slice(TOKEN_PREFIX.length));
  if (!bytes.ok) return deny('malformed', bytes.detail);
  observe('base45', 'pass', () => `${bytes.value.length} bytes`);

  const msg = parseSign1(bytes.value);
  if (!msg.ok) return deny('malformed', msg.detail);
  observe('cose_sign1', 'pass', () => describeSign1(msg.value));

  const payload = decodeCbor(msg.value.payload);
  if (!payload.ok) return deny('malformed', `payload: ${payload.detail}`);
  const claims = parseClaims(payload.value);
  if (!claims.ok) return deny('malformed', claims.detail);
  observe('claims', 'pass', () => describeClaims(claims.value));

  const kid = msg.value.kid;
  if (kid === undefined) return deny('malformed', 'no kid in either header', claims.value);
  return { ok: true, msg: msg.value, kid, claims: claims.value };
}

type Found = { ok: true; key: TrustedKey; issuer: IssuerPolicy } | Deny;

/** The trusted key for iss + kid, with the same alg and valid now; else `unknown_key`. */
function findKey(
  msg: CoseSign1,
  kidBytes: Uint8Array,
  claims: TokenClaims,
  opts: CheckOptions,
): Found {
  let kid: string;
  try {
    kid = UTF8.decode(kidBytes);
  } catch {
    return deny('unknown_key', 'kid is not UTF-8 text', claims);
  }
  const issuer = opts.trust.issuer(claims.iss);
  const key = opts.trust.key(claims.iss, kid);
  if (issuer === undefined || key === undefined) {
    return deny('unknown_key', 'no trusted key for this iss and kid', claims);
  }
  if (key.alg !== msg.alg) {
    return deny('unknown_key', `the trusted key is ${key.alg}, the token says ${msg.alg}`, claims);
  }
  // The key's window is [notBefore, notAfter): a retired key stops at notAfter exactly.
  if (key.notBeforeSec !== undefined && opts.nowSec < key.notBeforeSec) {
    return deny('unknown_key', 'the trusted key is not valid yet', claims);
  }
  if (key.notAfterSec !== undefined && opts.nowSec >= key.notAfterSec) {
    return deny('unknown_key', 'the trusted key is no longer valid', claims);
  }
  return { ok: true, key, issuer };
}

function checkTimes(claims: TokenClaims, opts: CheckOptions): Deny | undefined {
  const latest = opts.nowSec + (opts.skewSec ?? DEFAULT_SKEW_SEC);
  if (claims.nbf !== undefined && claims.nbf > latest) {
    return deny('not_yet_valid', `nbf is ${claims.nbf - opts.nowSec} s in the future`, claims);
  }
  if (claims.iat > latest) {
    return deny('not_yet_valid', `iat is ${claims.iat - opts.nowSec} s in the future`, claims);
  }
  if (claims.exp <= opts.nowSec) {
    return deny('expired', `expired ${opts.nowSec - claims.exp} s ago`, claims);
  }
  return undefined;
}

function checkLifetime(claims: TokenClaims, issuer: IssuerPolicy): Deny | undefined {
  const lifetimeSec = claims.exp - claims.iat;
  if (lifetimeSec > issuer.maxLifetimeSec) {
    return deny(
      'lifetime_too_long',
      `lifetime ${lifetimeSec} s is above the issuer's ${issuer.maxLifetimeSec} s`,
      claims,
    );
  }
  return undefined;
}

function checkSite(claims: TokenClaims, issuer: IssuerPolicy, site: string): Deny | undefined {
  if (claims.sites !== undefined && !claims.sites.includes(site)) {
    return deny('wrong_site', 'this site is not among the token sites', claims);
  }
  if (issuer.sites !== undefined && !issuer.sites.includes(site)) {
    return deny('wrong_site', 'the issuer is not trusted at this site', claims);
  }
  return undefined;
}

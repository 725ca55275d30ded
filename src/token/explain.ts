import type { KeyObject } from 'node:crypto';
import { Tag } from 'cbor2';
import { decodeCbor } from './cbor.js';
import { parseClaims } from './claims.js';
import { type CoseSign1, parseSign1, verifySign1 } from './cose.js';
import { describeBytes, describeClaims, describeSign1 } from './describe.js';
import { failed, type Parsed } from './result.js';
import type { DenyReason, TokenAlg, TokenClaims, VerifyResult } from './types.js';
import { CHECKS, type CheckName, type CheckOptions, runChecks } from './verify.js';

/** One line of an explanation: a check, its outcome and what it found. */
export interface CheckLine {
  check: CheckName;
  outcome: 'pass' | 'fail' | 'skipped';
  /** What the check found, or why it failed or was skipped. Never the token text. */
  detail: string;
}

/** A verification result with every check that led to it. */
export interface Explanation {
  result: VerifyResult;
  /** Every check of CHECKS, in order: passes, then the failing one, then the skipped ones. */
  checks: CheckLine[];
}

/**
 * Verifies `text` exactly as `verifyToken` does (the same steps, through `runChecks`) and
 * lists every check with its outcome. A deny stops the checks after it; they are listed as
 * `skipped`. Without `opts.site` the site check is skipped and not held against the token.
 * Never throws; no detail contains the token text.
 */
export function explainToken(text: string, opts: CheckOptions): Explanation {
  const seen = new Map<CheckName, CheckLine>();
  const result = runChecks(text, opts, (check, outcome, found) => {
    seen.set(check, { check, outcome, detail: safely(found) });
  });
  let failedAt: CheckName | undefined;
  const checks = CHECKS.map((check): CheckLine => {
    const line = seen.get(check);
    if (line !== undefined) return line;
    if (!result.ok && failedAt === undefined) {
      failedAt = check;
      return { check, outcome: 'fail', detail: `${result.reason}: ${result.detail}` };
    }
    return {
      check,
      outcome: 'skipped',
      detail: `not run: the ${failedAt ?? 'earlier'} check failed`,
    };
  });
  return { result, checks };
}

function safely(found: () => string): string {
  try {
    return found();
  } catch {
    return '(could not be described)';
  }
}

/** The key a bare COSE_Sign1 is checked with, e.g. from `readPublicKey`. */
export interface CoseKey {
  publicKey: KeyObject;
  alg: TokenAlg;
  kid: string;
}

/** The checks of a bare COSE_Sign1: structure, key fit, signature, then the payload. */
export type CoseCheckName = 'cose_sign1' | 'key' | 'signature' | 'claims';

export interface CoseExplanation {
  /** True when the signature verifies with the key. */
  ok: boolean;
  reason?: Extract<DenyReason, 'malformed' | 'unknown_key' | 'bad_signature'>;
  /** The payload as RP1 claims, when it is a valid CWT claims set. */
  claims?: TokenClaims;
  checks: Array<Omit<CheckLine, 'check'> & { check: CoseCheckName }>;
}

/**
 * Checks the signature of a bare COSE_Sign1 (tagged or untagged) with `key`, through the
 * same parser and signature check as `verifyToken`, and explains the header fields found:
 * for issuers debugging their own output. The payload need not be a CWT; when it is an RP1
 * claims set, the claims are shown too. Never throws.
 */
export function explainCoseSign1(bytes: Uint8Array, key: CoseKey): CoseExplanation {
  try {
    return explainCoseChecked(bytes, key);
  } catch {
    // Every step is written not to throw; this keeps the promise for a debugging tool too.
    return {
      ok: false,
      reason: 'malformed',
      checks: [
        { check: 'cose_sign1', outcome: 'fail', detail: 'malformed: could not be processed' },
      ],
    };
  }
}

function explainCoseChecked(bytes: Uint8Array, key: CoseKey): CoseExplanation {
  const lines: CoseExplanation['checks'] = [];
  const stop = (check: CoseCheckName, reason: CoseExplanation['reason'], detail: string) => {
    lines.push({ check, outcome: 'fail', detail: `${reason}: ${detail}` });
    for (const later of COSE_CHECKS.slice(COSE_CHECKS.indexOf(check) + 1)) {
      lines.push({
        check: later,
        outcome: 'skipped',
        detail: `not run: the ${check} check failed`,
      });
    }
    return { ok: false, reason, checks: lines };
  };

  const msg = parseSign1(bytes);
  if (!msg.ok) return stop('cose_sign1', 'malformed', msg.detail);
  lines.push({ check: 'cose_sign1', outcome: 'pass', detail: describeHeaders(bytes, msg.value) });

  if (msg.value.alg !== key.alg) {
    return stop('key', 'unknown_key', `the key is ${key.alg}, the message says ${msg.value.alg}`);
  }
  lines.push({ check: 'key', outcome: 'pass', detail: describeKidMatch(msg.value, key) });

  if (!verifySign1(msg.value, key.publicKey)) {
    return stop('signature', 'bad_signature', whyBadSignature(msg.value));
  }
  lines.push({
    check: 'signature',
    outcome: 'pass',
    detail: `${key.alg} signature verifies over the protected header as received and the payload`,
  });

  const claims = payloadClaims(msg.value.payload);
  if (!claims.ok) {
    lines.push({ check: 'claims', outcome: 'skipped', detail: claims.detail });
    return { ok: true, checks: lines };
  }
  lines.push({ check: 'claims', outcome: 'pass', detail: describeClaims(claims.value) });
  return { ok: true, claims: claims.value, checks: lines };
}

const COSE_CHECKS: CoseCheckName[] = ['cose_sign1', 'key', 'signature', 'claims'];

/** COSE header labels (RFC 9052 section 3.1, table 3) shown by name. */
const HEADER_NAMES = new Map<unknown, string>([
  [1, 'alg'],
  [2, 'crit'],
  [3, 'content type'],
  [4, 'kid'],
  [5, 'IV'],
  [6, 'partial IV'],
]);

/** The message layout and both header buckets, label by label. */
function describeHeaders(bytes: Uint8Array, msg: CoseSign1): string {
  const prot = decodeCbor(msg.protectedBytes);
  const protLabels = prot.ok && prot.value instanceof Map ? [...prot.value.keys()] : [];
  // parseSign1 already accepted these bytes; decoding them again only reads the labels.
  const outer = decodeCbor(bytes);
  const item = outer.ok ? outer.value : undefined;
  const body: unknown = item instanceof Tag ? item.contents : item;
  const unprot = Array.isArray(body) && body[1] instanceof Map ? [...body[1].keys()] : [];
  const kidWhere = protLabels.includes(4) ? 'protected' : 'unprotected';
  const kid = msg.kid === undefined ? '' : ` (kid from the ${kidWhere} header)`;
  const hex = Buffer.from(msg.protectedBytes.subarray(0, 32)).toString('hex');
  return (
    `${describeSign1(msg)}${kid}; protected header ${msg.protectedBytes.length} bytes ` +
    `h'${hex}' with ${labelList(protLabels)}; unprotected header with ${labelList(unprot)}`
  );
}

function labelList(labels: unknown[]): string {
  if (labels.length === 0) return 'no labels';
  return labels
    .slice(0, 16)
    .map((l) => `${String(l)} (${HEADER_NAMES.get(l) ?? 'other'})`)
    .join(', ');
}

function describeKidMatch(msg: CoseSign1, key: CoseKey): string {
  const uses = `${key.alg} key ${describeBytes(new TextEncoder().encode(key.kid))}`;
  if (msg.kid === undefined) return `${uses}; the message has no kid, which RP1 requires`;
  if (Buffer.from(msg.kid).equals(Buffer.from(key.kid, 'utf8'))) return `${uses}; kid matches`;
  return `${uses}; the message kid ${describeBytes(msg.kid)} differs, so a gate would look for another key`;
}

function whyBadSignature(msg: CoseSign1): string {
  if (msg.alg === 'ES256' && msg.signature.length !== 64) {
    return `signature is ${msg.signature.length} bytes; ES256 in COSE is r‖s, 64 bytes, not DER`;
  }
  return 'signature does not verify with the key';
}

/** The payload as RP1 claims, or why it is not (a bare COSE_Sign1 may carry anything). */
function payloadClaims(payload: Uint8Array): Parsed<TokenClaims> {
  const item = decodeCbor(payload);
  if (!item.ok) return failed(`payload (${payload.length} bytes) is not CBOR, so not RP1 claims`);
  const claims = parseClaims(item.value);
  if (!claims.ok) return failed(`payload is not RP1 claims: ${claims.detail}`);
  return claims;
}

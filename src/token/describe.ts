import type { CoseSign1 } from './cose.js';
import type { IssuerPolicy, TokenClaims, TrustedKey } from './types.js';

// What each check of verifyToken found, in words, for explanations (explainToken and the
// `token verify` command). Text taken from a token is quoted and cut short, so control
// characters and bidi overrides cannot reach a terminal.

/** Characters that must not reach a terminal raw: C1 controls, DEL and bidi overrides. */
const UNSAFE = /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** Longest piece of token text shown, characters. */
const MAX_SHOWN_CHARS = 64;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Text from a token as a short, quoted, terminal-safe string. */
export function quote(text: string): string {
  const short = text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
  // JSON escapes quotes, backslashes and C0 controls; the rest is done here.
  return JSON.stringify(short).replace(
    UNSAFE,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Bytes as quoted text when they are UTF-8, else as CBOR-diagnostic hex (h'…'). */
export function describeBytes(bytes: Uint8Array): string {
  try {
    return quote(UTF8.decode(bytes));
  } catch {
    const hex = Buffer.from(bytes.subarray(0, 32)).toString('hex');
    return `h'${hex}${bytes.length > 32 ? '…' : ''}'`;
  }
}

export function describeSign1(msg: CoseSign1): string {
  const kid = msg.kid === undefined ? 'no kid' : `kid ${describeBytes(msg.kid)}`;
  const tag = msg.tagged ? 'tagged (18)' : 'untagged';
  return `${tag}, alg ${msg.alg}, ${kid}, payload ${msg.payload.length} bytes, signature ${msg.signature.length} bytes`;
}

export function describeClaims(c: TokenClaims): string {
  const parts = [`iss ${quote(c.iss)}`, `sub ${quote(c.sub)}`, `iat ${c.iat}`, `exp ${c.exp}`];
  if (c.nbf !== undefined) parts.push(`nbf ${c.nbf}`);
  parts.push(`cti ${c.cti.slice(0, MAX_SHOWN_CHARS)}`);
  parts.push(c.sites === undefined ? 'no sites (all)' : `sites ${c.sites.map(quote).join(' ')}`);
  return parts.join(', ');
}

export function describeKey(key: TrustedKey, nowSec: number): string {
  const until =
    key.notAfterSec === undefined ? '' : `, valid for ${key.notAfterSec - nowSec} s more`;
  return `${key.alg} key ${quote(key.kid)} of ${quote(key.iss)}${until}`;
}

export function describeTimes(c: TokenClaims, nowSec: number, skewSec: number): string {
  const when = (sec: number) => (sec <= nowSec ? `${nowSec - sec} s ago` : `in ${sec - nowSec} s`);
  const nbf = c.nbf === undefined ? '' : `nbf ${when(c.nbf)}, `;
  return `${nbf}iat ${when(c.iat)}, exp ${when(c.exp)} (skew ${skewSec} s)`;
}

export function describeLifetime(c: TokenClaims, issuer: IssuerPolicy): string {
  return `${c.exp - c.iat} s, the issuer's maximum is ${issuer.maxLifetimeSec} s`;
}

export function describeSite(site: string, c: TokenClaims, issuer: IssuerPolicy): string {
  const token = c.sites === undefined ? 'the token names no sites' : 'the token lists it';
  const by =
    issuer.sites === undefined
      ? 'the issuer is trusted at every site'
      : 'the issuer is trusted there';
  return `${quote(site)}: ${token}; ${by}`;
}

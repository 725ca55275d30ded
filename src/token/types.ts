import type { KeyObject } from 'node:crypto';

/** COSE algorithm names ridergate verifies: EdDSA (COSE -8) and ES256 (COSE -7). */
export type TokenAlg = 'EdDSA' | 'ES256';

/** Deny reasons, in the order the checks run (DESIGN.md "The rider token"). */
export type DenyReason =
  | 'malformed'
  | 'unknown_key'
  | 'bad_signature'
  | 'not_yet_valid'
  | 'expired'
  | 'lifetime_too_long'
  | 'wrong_site'
  | 'revoked'
  | 'replayed'
  | 'maintenance';

/** The CWT claims of a rider token after type checks. Times are seconds since the epoch. */
export interface TokenClaims {
  iss: string;
  /** Rider id: text as is, a byte string as lowercase hex. */
  sub: string;
  exp: number;
  nbf?: number;
  iat: number;
  /** Token id (cti), lowercase hex. */
  cti: string;
  /** Private claim -70001: site ids the token is valid at; undefined means every site. */
  sites?: string[];
}

/** One issuer key the gate trusts. */
export interface TrustedKey {
  iss: string;
  /** The COSE kid as text (its UTF-8 bytes are the kid on the wire). */
  kid: string;
  alg: TokenAlg;
  publicKey: KeyObject;
  /** Validity window, seconds since the epoch; absent means unbounded. */
  notBeforeSec?: number;
  notAfterSec?: number;
}

/** What the gate knows about one issuer. */
export interface IssuerPolicy {
  iss: string;
  /** Largest allowed exp − iat, in seconds. Default 300. */
  maxLifetimeSec: number;
  /** Sites the issuer is trusted for; undefined means all. */
  sites?: string[];
}

/** Read-only view of the trust list used by token verification. */
export interface TrustView {
  issuer(iss: string): IssuerPolicy | undefined;
  /** The key for iss + kid, or undefined when none is known. */
  key(iss: string, kid: string): TrustedKey | undefined;
}

export interface VerifyOptions {
  trust: TrustView;
  /** Current time, seconds since the epoch. */
  nowSec: number;
  /** This gate's site id. */
  site: string;
  /** Allowed clock skew for nbf / iat in the future, seconds. Default 30. */
  skewSec: number;
}

export type VerifyResult =
  | { ok: true; claims: TokenClaims; kid: string; alg: TokenAlg }
  | {
      ok: false;
      reason: DenyReason;
      /** A short, safe explanation for logs (never the token text). */
      detail: string;
      /** Claims when the payload decoded, so a deny can name iss/sub/cti. */
      claims?: TokenClaims;
    };

import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Type as T } from '@sinclair/typebox';
import { keyFitsAlg } from '../token/cose.js';
import { holdsPrivateKey } from '../token/keys.js';
import type { TokenAlg } from '../token/types.js';

/** A time in a trust list: ISO 8601 with a zone, or epoch seconds. */
export const Time = T.Union([T.String({ minLength: 1 }), T.Integer({ minimum: 0 })]);

/** The part of a trust list key entry (issuer or operations key) that makes a public key. */
export interface KeyEntry {
  alg: TokenAlg;
  jwk: { kty: string } & Record<string, unknown>;
}

/** Imports the public JWK of a key entry; pushes a problem and returns undefined when unusable. */
export function importPublicJwk(
  k: KeyEntry,
  where: string,
  problems: string[],
): KeyObject | undefined {
  if (holdsPrivateKey(k.jwk)) {
    problems.push(
      `${where}.jwk: holds a private key ("d"); put only the public key in the trust list and treat that private key as leaked`,
    );
    return undefined;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: k.jwk as JsonWebKey, format: 'jwk' });
  } catch {
    problems.push(`${where}.jwk: not a usable public JWK; expected ${expectedJwk(k.alg)}`);
    return undefined;
  }
  // RP1 EdDSA is Ed25519 only (DESIGN.md "The rider token").
  if (!keyFitsAlg(key, k.alg) || key.asymmetricKeyType === 'ed448') {
    problems.push(`${where}.jwk: does not fit alg ${k.alg}; expected ${expectedJwk(k.alg)}`);
    return undefined;
  }
  return key;
}

function expectedJwk(alg: TokenAlg): string {
  return alg === 'EdDSA' ? '{ kty: OKP, crv: Ed25519, x }' : '{ kty: EC, crv: P-256, x, y }';
}

/** ISO 8601 with a time zone, or epoch seconds. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an ISO 8601 time or epoch seconds; pushes a problem and returns undefined when neither. */
export function parseTime(
  value: string | number | undefined,
  where: string,
  problems: string[],
): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  const ms = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    problems.push(
      `${where}: "${value.slice(0, 40)}" is not a time; use ISO 8601 with a zone (2026-01-01T00:00:00Z) or epoch seconds`,
    );
    return undefined;
  }
  return Math.floor(ms / 1000);
}

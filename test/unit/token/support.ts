import type { KeyObject } from 'node:crypto';
import { generateKeyPair } from '../../../src/token/keys.js';
import type { TokenAlg, TrustView, VerifyOptions } from '../../../src/token/types.js';
import { buildTrustList } from '../../../src/trust/trust-list.js';

/** The fixed "now" of token tests: 2026-03-01T12:00:00Z. */
export const NOW_SEC = 1_772_366_400;

export interface TestKey {
  kid: string;
  alg: TokenAlg;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function testKey(alg: TokenAlg, kid = alg === 'EdDSA' ? 'ed-1' : 'es-1'): TestKey {
  return { kid, alg, ...generateKeyPair(alg) };
}

export interface TestIssuer {
  iss: string;
  keys: Array<TestKey & { notBefore?: number | string; notAfter?: number | string }>;
  maxLifetimeSec?: number;
  sites?: string[];
}

/** A TrustView over the given issuers, built through the real trust list loader. */
export function trustOf(issuers: TestIssuer[]): TrustView {
  const doc = {
    version: 1,
    issuers: issuers.map(({ keys, ...rest }) => ({
      ...rest,
      keys: keys.map(({ privateKey: _p, publicKey, ...k }) => ({
        ...k,
        jwk: publicKey.export({ format: 'jwk' }),
      })),
    })),
  };
  return buildTrustList(doc, 'test').view;
}

export function optsFor(trust: TrustView, over: Partial<VerifyOptions> = {}): VerifyOptions {
  return { trust, nowSec: NOW_SEC, site: 'site-a', skewSec: 30, ...over };
}

/** Claims valid at NOW_SEC for 2 minutes. */
export function freshClaims(iss = 'demo-eats') {
  return { iss, sub: 'rider-42', iat: NOW_SEC - 10, exp: NOW_SEC + 110 };
}

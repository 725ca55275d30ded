import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { encodeBase45 } from '../../../src/token/base45.js';
import { CTI_BYTES, issueToken } from '../../../src/token/issue.js';
import { DEFAULT_KID_CHARS, defaultKid } from '../../../src/token/keys.js';
import { verifyToken } from '../../../src/token/verify.js';
import { freshClaims, optsFor, testKey, trustOf } from './support.js';

/** DESIGN.md: an RP1 token fits a QR of version 8 or lower at error-correction level M. */
const TARGET_VERSION = 8;
/** Alphanumeric capacity of a version 8 symbol at level M, characters (ISO/IEC 18004 table 7). */
const CAPACITY_8M = 221;

const versionAtM = (text: string) => QRCode.create(text, { errorCorrectionLevel: 'M' }).version;

/** A typical token: iss ~9, sub ~10 and one site ~9 characters, default kid, cti and tag. */
function typicalToken(alg: 'EdDSA' | 'ES256') {
  const base = testKey(alg);
  const key = { ...base, kid: defaultKid(base.publicKey) };
  const claims = { ...freshClaims('demo-eats'), sub: 'rider-8f3a', sites: ['north-hub'] };
  const { text } = issueToken({ privateKey: key.privateKey, kid: key.kid, alg, claims });
  return { key, text };
}

describe('the RP1 QR size budget', () => {
  it('uses an 8-byte cti and a 4-character kid by default', () => {
    expect(CTI_BYTES).toBe(8);
    expect(DEFAULT_KID_CHARS).toBe(4);
  });

  it.each(['EdDSA', 'ES256'] as const)(
    'a typical %s token with a sites claim is QR version 8 or lower at level M',
    (alg) => {
      const { key, text } = typicalToken(alg);
      expect(text.length).toBeLessThanOrEqual(CAPACITY_8M);
      expect(versionAtM(text)).toBeLessThanOrEqual(TARGET_VERSION);
      // Still a valid token: the size savings cost nothing at the gate.
      const trust = trustOf([{ iss: 'demo-eats', keys: [key] }]);
      expect(verifyToken(text, optsFor(trust, { site: 'north-hub' })).ok).toBe(true);
    },
  );

  it('leaves the COSE_Sign1 tag out by default, one byte less than tagged', () => {
    const key = testKey('EdDSA', 'k1');
    const claims = { ...freshClaims(), cti: new Uint8Array(8) };
    const plain = issueToken({ privateKey: key.privateKey, kid: key.kid, alg: 'EdDSA', claims });
    const tagged = issueToken({
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA',
      claims,
      tagged: true,
    });
    // base45 turns 2 bytes into 3 characters and a last odd byte into 2.
    expect(tagged.text.length - plain.text.length).toBeGreaterThanOrEqual(1);
    expect(tagged.text.length - plain.text.length).toBeLessThanOrEqual(2);
  });

  it('would not fit with the former defaults (16-byte cti, 8-character kid, tag 18)', () => {
    // Guards the reason for the defaults: the budget is 144 bytes of COSE_Sign1, 216 base45
    // characters after the 4-character prefix, and the 64-byte signature takes 66 of them.
    const key = testKey('EdDSA', 'abcdefgh');
    const claims = {
      ...freshClaims('demo-eats'),
      sub: 'rider-8f3a',
      sites: ['north-hub'],
      cti: new Uint8Array(16),
    };
    const { text } = issueToken({
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA',
      claims,
      tagged: true,
    });
    expect(versionAtM(text)).toBeGreaterThan(TARGET_VERSION);
    expect(encodeBase45(new Uint8Array(144)).length + 4).toBeLessThanOrEqual(CAPACITY_8M);
    expect(encodeBase45(new Uint8Array(145)).length + 4).toBeGreaterThan(CAPACITY_8M);
  });
});

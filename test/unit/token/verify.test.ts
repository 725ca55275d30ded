import { sign } from 'node:crypto';
import { Tag } from 'cbor2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBase45 } from '../../../src/token/base45.js';
import { encodeCbor } from '../../../src/token/cbor.js';
import { buildClaimsMap } from '../../../src/token/claims.js';
import { sigStructure } from '../../../src/token/cose.js';
import { issueToken } from '../../../src/token/issue.js';
import { MAX_TOKEN_CHARS, verifyToken } from '../../../src/token/verify.js';
import { freshClaims, NOW_SEC, optsFor, type TestKey, testKey, trustOf } from './support.js';

const ed = testKey('EdDSA', 'eats-1');
const es = testKey('ES256', 'parcels-1');
const trust = trustOf([
  { iss: 'demo-eats', keys: [ed] },
  { iss: 'demo-parcels', keys: [es], maxLifetimeSec: 600, sites: ['site-a', 'site-b'] },
]);
const opts = optsFor(trust);

function issue(key: TestKey, claims: Parameters<typeof issueToken>[0]['claims'], tagged = true) {
  return issueToken({ privateKey: key.privateKey, kid: key.kid, alg: key.alg, claims, tagged });
}

/** Builds a token by hand, for header layouts issueToken never produces. */
function craft(opt: {
  key: TestKey;
  prot: Map<number, unknown>;
  unprot?: Map<number, unknown>;
  payload?: Uint8Array;
  tagged?: boolean;
}): string {
  const payload =
    opt.payload ?? encodeCbor(buildClaimsMap({ ...freshClaims(), cti: new Uint8Array([1, 2]) }));
  const protectedBytes = encodeCbor(opt.prot);
  const signature = sign(null, sigStructure(protectedBytes, payload), opt.key.privateKey);
  const msg = [protectedBytes, opt.unprot ?? new Map(), payload, new Uint8Array(signature)];
  return `RP1:${encodeBase45(encodeCbor(opt.tagged === false ? msg : new Tag(18, msg)))}`;
}

const kidBytes = (kid: string) => new TextEncoder().encode(kid);

describe('verifyToken admits', () => {
  it('an EdDSA token and returns its claims, kid and alg', () => {
    const cti = new Uint8Array([0xab, 0xcd, 0x01]);
    const { text } = issue(ed, { ...freshClaims(), sub: new Uint8Array([0x0f, 0xa0]), cti });
    const result = verifyToken(text, opts);
    expect(result).toEqual({
      ok: true,
      kid: 'eats-1',
      alg: 'EdDSA',
      claims: {
        iss: 'demo-eats',
        sub: '0fa0',
        iat: NOW_SEC - 10,
        exp: NOW_SEC + 110,
        cti: 'abcd01',
      },
    });
  });

  it('an ES256 token at a site the issuer and the token allow', () => {
    const { text, cti } = issue(es, { ...freshClaims('demo-parcels'), sites: ['site-a'] });
    const result = verifyToken(text, opts);
    expect(result).toMatchObject({ ok: true, alg: 'ES256', kid: 'parcels-1' });
    expect(result.ok && result.claims).toMatchObject({ cti, sites: ['site-a'], sub: 'rider-42' });
  });

  it('tagged and untagged COSE_Sign1 alike', () => {
    expect(verifyToken(issue(ed, freshClaims(), true).text, opts).ok).toBe(true);
    expect(verifyToken(issue(ed, freshClaims(), false).text, opts).ok).toBe(true);
  });

  it('a kid carried in the unprotected header', () => {
    const text = craft({
      key: ed,
      prot: new Map([[1, -8]]),
      unprot: new Map([[4, kidBytes('eats-1')]]),
    });
    expect(verifyToken(text, opts)).toMatchObject({ ok: true, kid: 'eats-1' });
  });

  it('using the protected kid when both headers carry one', () => {
    const text = craft({
      key: ed,
      prot: new Map<number, unknown>([
        [1, -8],
        [4, kidBytes('eats-1')],
      ]),
      unprot: new Map([[4, kidBytes('no-such-kid')]]),
      tagged: false,
    });
    expect(verifyToken(text, opts)).toMatchObject({ ok: true, kid: 'eats-1' });
  });

  it('nbf and iat inside the allowed skew', () => {
    const { text } = issue(ed, { ...freshClaims(), iat: NOW_SEC + 30, nbf: NOW_SEC + 30 });
    expect(verifyToken(text, opts).ok).toBe(true);
  });
});

describe('verifyToken denies as malformed', () => {
  const good = issue(ed, freshClaims()).text;

  it.each([
    ['text without the RP1: prefix', good.slice(4), 'does not start with RP1:'],
    ['a lower-case prefix', `rp1:${good.slice(4)}`, 'does not start with RP1:'],
    ['text longer than the limit', `RP1:${'0'.repeat(MAX_TOKEN_CHARS)}`, 'longer than'],
    ['a character outside base45', `RP1:a${good.slice(5)}`, 'outside its alphabet'],
    ['a single trailing base45 character', 'RP1:0000', 'single trailing'],
    ['a base45 triple above 65535', 'RP1:GGW', 'out of range'],
    ['bytes that are not CBOR', `RP1:${encodeBase45(new Uint8Array([0xff, 0x00]))}`, 'CBOR'],
    ['CBOR with trailing bytes', `RP1:${encodeBase45(new Uint8Array([0x01, 0x02]))}`, 'CBOR'],
    ['CBOR that is not a COSE_Sign1', `RP1:${encodeBase45(encodeCbor([1, 2]))}`, 'four items'],
    ['another CBOR tag', `RP1:${encodeBase45(encodeCbor(new Tag(98, [])))}`, 'tag'],
    ['an empty text', '', 'RP1:'],
  ])('%s', (_name, text, detail) => {
    const result = verifyToken(text, opts);
    expect(result).toMatchObject({ ok: false, reason: 'malformed' });
    expect(!result.ok && result.detail).toContain(detail);
  });

  it('a claim of the wrong type (exp as text)', () => {
    const payload = encodeCbor(
      new Map<number, unknown>([
        [1, 'demo-eats'],
        [2, 'r'],
        [4, 'soon'],
        [6, NOW_SEC],
        [7, new Uint8Array([1])],
      ]),
    );
    const result = verifyToken(
      craft({
        key: ed,
        prot: new Map<number, unknown>([
          [1, -8],
          [4, kidBytes('eats-1')],
        ]),
        payload,
      }),
      opts,
    );
    expect(result).toMatchObject({
      ok: false,
      reason: 'malformed',
      detail: expect.stringContaining('exp (4)'),
    });
  });

  it('sites that are not an array of text', () => {
    const payload = encodeCbor(
      new Map<number, unknown>([
        [1, 'demo-eats'],
        [2, 'r'],
        [4, NOW_SEC + 60],
        [6, NOW_SEC],
        [7, new Uint8Array([1])],
        [-70001, 'site-a'],
      ]),
    );
    const result = verifyToken(
      craft({
        key: ed,
        prot: new Map<number, unknown>([
          [1, -8],
          [4, kidBytes('eats-1')],
        ]),
        payload,
      }),
      opts,
    );
    expect(result).toMatchObject({
      ok: false,
      reason: 'malformed',
      detail: expect.stringContaining('sites'),
    });
  });

  it('a payload that is not well-formed CBOR', () => {
    const payload = new Uint8Array([0xa1, 0x01]);
    const result = verifyToken(
      craft({
        key: ed,
        prot: new Map<number, unknown>([
          [1, -8],
          [4, kidBytes('eats-1')],
        ]),
        payload,
      }),
      opts,
    );
    expect(result).toMatchObject({
      ok: false,
      reason: 'malformed',
      detail: expect.stringContaining('payload'),
    });
  });

  it('an algorithm other than EdDSA or ES256', () => {
    const result = verifyToken(
      craft({
        key: ed,
        prot: new Map<number, unknown>([
          [1, -35],
          [4, kidBytes('eats-1')],
        ]),
      }),
      opts,
    );
    expect(result).toMatchObject({
      ok: false,
      reason: 'malformed',
      detail: expect.stringContaining('alg'),
    });
  });

  it('no kid in either header, still naming the claims', () => {
    const result = verifyToken(craft({ key: ed, prot: new Map([[1, -8]]) }), opts);
    expect(result).toMatchObject({ ok: false, reason: 'malformed', claims: { iss: 'demo-eats' } });
  });
});

describe('verifyToken denies', () => {
  it('unknown_key for an issuer it does not trust', () => {
    const { text } = issue(ed, freshClaims('someone-else'));
    expect(verifyToken(text, opts)).toMatchObject({
      ok: false,
      reason: 'unknown_key',
      claims: { iss: 'someone-else' },
    });
  });

  it('unknown_key for a kid the issuer does not have', () => {
    const { text } = issue({ ...ed, kid: 'eats-2' }, freshClaims());
    expect(verifyToken(text, opts)).toMatchObject({ ok: false, reason: 'unknown_key' });
  });

  it('unknown_key when the header alg differs from the trusted key alg', () => {
    const other = testKey('ES256', 'eats-1');
    const { text } = issue(other, freshClaims());
    expect(verifyToken(text, opts)).toMatchObject({
      ok: false,
      reason: 'unknown_key',
      detail: expect.stringContaining('EdDSA'),
    });
  });

  it('unknown_key outside the key validity window', () => {
    const windowed = trustOf([
      { iss: 'demo-eats', keys: [{ ...ed, notBefore: NOW_SEC - 100, notAfter: NOW_SEC + 100 }] },
    ]);
    const { text } = issue(ed, freshClaims());
    expect(verifyToken(text, optsFor(windowed)).ok).toBe(true);
    expect(verifyToken(text, optsFor(windowed, { nowSec: NOW_SEC - 101 }))).toMatchObject({
      reason: 'unknown_key',
    });
    expect(verifyToken(text, optsFor(windowed, { nowSec: NOW_SEC + 100 }))).toMatchObject({
      reason: 'unknown_key',
    });
  });

  it('bad_signature for a token forged with another key under the same kid', () => {
    const forger = testKey('EdDSA', 'eats-1');
    const { text, cti } = issue(forger, freshClaims());
    expect(verifyToken(text, opts)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
      claims: { cti },
    });
  });

  it('bad_signature for a forged ES256 token', () => {
    const forger = testKey('ES256', 'parcels-1');
    const { text } = issue(forger, freshClaims('demo-parcels'));
    expect(verifyToken(text, opts)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('not_yet_valid when nbf is beyond the skew', () => {
    const { text } = issue(ed, { ...freshClaims(), nbf: NOW_SEC + 31 });
    expect(verifyToken(text, opts)).toMatchObject({
      ok: false,
      reason: 'not_yet_valid',
      detail: 'nbf is 31 s in the future',
    });
  });

  it('not_yet_valid when iat is beyond the skew', () => {
    const { text } = issue(ed, { ...freshClaims(), iat: NOW_SEC + 31, exp: NOW_SEC + 200 });
    expect(verifyToken(text, opts)).toMatchObject({ ok: false, reason: 'not_yet_valid' });
  });

  it('expired at exp exactly and after', () => {
    const { text } = issue(ed, { ...freshClaims(), exp: NOW_SEC });
    expect(verifyToken(text, opts)).toMatchObject({
      ok: false,
      reason: 'expired',
      detail: 'expired 0 s ago',
    });
    expect(verifyToken(text, optsFor(trust, { nowSec: NOW_SEC - 1 })).ok).toBe(true);
  });

  it('lifetime_too_long above the issuer maximum (default 300 s)', () => {
    const ok = issue(ed, { ...freshClaims(), iat: NOW_SEC, exp: NOW_SEC + 300 }).text;
    const tooLong = issue(ed, { ...freshClaims(), iat: NOW_SEC, exp: NOW_SEC + 301 }).text;
    expect(verifyToken(ok, opts).ok).toBe(true);
    expect(verifyToken(tooLong, opts)).toMatchObject({ ok: false, reason: 'lifetime_too_long' });
  });

  it('wrong_site when this site is not in the token sites', () => {
    const { text } = issue(ed, { ...freshClaims(), sites: ['site-b', 'site-c'] });
    expect(verifyToken(text, opts)).toMatchObject({
      ok: false,
      reason: 'wrong_site',
      detail: expect.stringContaining('token sites'),
    });
  });

  it('wrong_site when the issuer is not trusted at this site', () => {
    const { text } = issue(es, freshClaims('demo-parcels'));
    expect(verifyToken(text, opts).ok).toBe(true);
    expect(verifyToken(text, optsFor(trust, { site: 'site-z' }))).toMatchObject({
      ok: false,
      reason: 'wrong_site',
      detail: expect.stringContaining('issuer'),
    });
  });

  it('the first failing check in order: an expired forged token is bad_signature', () => {
    const forger = testKey('EdDSA', 'eats-1');
    const { text } = issue(forger, { ...freshClaims(), exp: NOW_SEC - 5, sites: ['nowhere'] });
    expect(verifyToken(text, opts)).toMatchObject({ reason: 'bad_signature' });
  });
});

describe('verifyToken on arbitrary input', () => {
  it('never throws and never echoes the text in its detail', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const text = `RP1:${s}`;
        const result = verifyToken(text, opts);
        expect(result.ok).toBe(false);
        if (!result.ok && s.length > 8) expect(result.detail).not.toContain(s);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary bytes in valid base45', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(verifyToken(`RP1:${encodeBase45(bytes)}`, opts).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('denies every single-byte change of a valid token', () => {
    const { text } = issue(ed, freshClaims());
    const bytes = Buffer.from(text.slice(4));
    // Changing base45 characters one at a time reaches every byte of the COSE message.
    for (let i = 0; i < bytes.length; i++) {
      const changed = `${text.slice(0, 4 + i)}${text[4 + i] === '0' ? '1' : '0'}${text.slice(5 + i)}`;
      expect(verifyToken(changed, opts).ok, `change at ${i}`).toBe(false);
    }
  });
});

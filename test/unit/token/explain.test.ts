import { describe, expect, it } from 'vitest';
import { decodeBase45, encodeBase45 } from '../../../src/token/base45.js';
import { encodeCbor } from '../../../src/token/cbor.js';
import { explainCoseSign1, explainToken } from '../../../src/token/explain.js';
import { issueToken } from '../../../src/token/issue.js';
import { CHECKS, verifyToken } from '../../../src/token/verify.js';
import { freshClaims, NOW_SEC, optsFor, testKey, trustOf } from './support.js';

const ed = testKey('EdDSA', 'ed-1');
const trust = trustOf([{ iss: 'demo-eats', keys: [ed], sites: ['site-a'] }]);
const opts = optsFor(trust);

function token(claims: Partial<ReturnType<typeof freshClaims>> & { sites?: string[] } = {}) {
  return issueToken({
    privateKey: ed.privateKey,
    kid: ed.kid,
    alg: 'EdDSA',
    claims: { ...freshClaims(), ...claims },
  }).text;
}

const outcomes = (checks: { outcome: string }[]) => checks.map((c) => c.outcome);

describe('explainToken', () => {
  it('lists every check in order, all passing, for a valid token', () => {
    const text = token({ sites: ['site-a'] });
    const { result, checks } = explainToken(text, opts);
    expect(result).toEqual(verifyToken(text, opts));
    expect(checks.map((c) => c.check)).toEqual([
      'prefix',
      'base45',
      'cose_sign1',
      'claims',
      'key',
      'signature',
      'times',
      'lifetime',
      'site',
    ]);
    expect(outcomes(checks)).toEqual(CHECKS.map(() => 'pass'));
    const found = Object.fromEntries(checks.map((c) => [c.check, c.detail]));
    expect(found.cose_sign1).toContain('untagged, alg EdDSA, kid "ed-1"');
    expect(found.claims).toContain('iss "demo-eats", sub "rider-42"');
    expect(found.claims).toContain('sites "site-a"');
    expect(found.key).toBe('EdDSA key "ed-1" of "demo-eats"');
    expect(found.times).toBe('iat 10 s ago, exp in 110 s (skew 30 s)');
    expect(found.lifetime).toBe("120 s, the issuer's maximum is 300 s");
    expect(found.site).toBe('"site-a": the token lists it; the issuer is trusted there');
  });

  it.each([
    ['prefix', 'not a token', 'malformed'],
    ['base45', 'RP1:a', 'malformed'],
    ['cose_sign1', `RP1:${encodeBase45(encodeCbor([1, 2]))}`, 'malformed'],
    [
      'claims',
      `RP1:${encodeBase45(encodeCbor([new Uint8Array([0xa1, 0x01, 0x27]), new Map(), encodeCbor('x'), new Uint8Array(64)]))}`,
      'malformed',
    ],
  ])('a deny at %s marks it failed and every later check skipped', (at, text, reason) => {
    const { result, checks } = explainToken(text, opts);
    expect(result).toMatchObject({ ok: false, reason });
    const index = CHECKS.indexOf(at as (typeof CHECKS)[number]);
    expect(outcomes(checks)).toEqual(
      CHECKS.map((_c, i) => (i < index ? 'pass' : i === index ? 'fail' : 'skipped')),
    );
    expect(checks[index]?.detail).toMatch(new RegExp(`^${reason}: `));
    expect(checks[index + 1]?.detail).toBe(`not run: the ${at} check failed`);
  });

  it.each([
    ['key', () => token({ iss: 'someone-else' }), opts, 'unknown_key'],
    [
      'signature',
      () => token(),
      optsFor(trustOf([{ iss: 'demo-eats', keys: [{ ...testKey('EdDSA'), kid: 'ed-1' }] }])),
      'bad_signature',
    ],
    ['times', () => token(), optsFor(trust, { nowSec: NOW_SEC + 200 }), 'expired'],
    ['lifetime', () => token({ exp: NOW_SEC + 1000 }), opts, 'lifetime_too_long'],
    ['site', () => token({ sites: ['site-b'] }), opts, 'wrong_site'],
  ] as const)('a %s deny gives the same result as verifyToken', (at, make, o, reason) => {
    const text = make();
    const { result, checks } = explainToken(text, o);
    expect(result).toEqual(verifyToken(text, o));
    expect(result).toMatchObject({ ok: false, reason });
    const line = checks.find((c) => c.check === at);
    expect(line).toMatchObject({ outcome: 'fail', detail: expect.stringContaining(reason) });
    expect(checks.filter((c) => c.outcome === 'fail')).toHaveLength(1);
  });

  it('skips the site check, and still passes, when no site is given', () => {
    const { result, checks } = explainToken(token({ sites: ['site-b'] }), {
      ...opts,
      site: undefined,
    });
    expect(result.ok).toBe(true);
    expect(checks.at(-1)).toEqual({ check: 'site', outcome: 'skipped', detail: 'no site given' });
  });

  it('never throws and never shows the token text, whatever the input', () => {
    const valid = token();
    const inputs = [
      valid,
      valid.slice(0, 100),
      `${valid}AA`,
      'RP1:',
      '',
      'RP1:%%%%',
      'x'.repeat(5000),
    ];
    for (const text of inputs) {
      const { checks } = explainToken(text, opts);
      expect(checks).toHaveLength(CHECKS.length);
      for (const c of checks) expect(c.detail).not.toContain(valid.slice(4, 24));
    }
  });

  it('quotes claims so control characters cannot reach a terminal', () => {
    const text = token({ sub: 'rider\u001b[31m\u202e' });
    const claims = explainToken(text, opts).checks.find((c) => c.check === 'claims');
    expect(claims?.detail).toContain('sub "rider\\u001b[31m\\u202e"');
  });
});

describe('explainCoseSign1', () => {
  it('passes a valid signature and says where the kid was found', () => {
    const key = testKey('ES256', 'k-1');
    const { text } = issueToken({
      privateKey: key.privateKey,
      kid: 'k-1',
      alg: 'ES256',
      claims: freshClaims(),
      tagged: true,
    });
    const bytes = coseBytes(text);
    const explained = explainCoseSign1(bytes, {
      publicKey: key.publicKey,
      alg: 'ES256',
      kid: 'k-1',
    });
    expect(explained).toMatchObject({ ok: true, claims: { iss: 'demo-eats' } });
    expect(outcomes(explained.checks)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(explained.checks[0]?.detail).toContain('tagged (18), alg ES256, kid "k-1"');
    expect(explained.checks[0]?.detail).toContain('kid from the protected header');
    expect(explained.checks[1]?.detail).toContain('kid matches');
  });

  it('fails on an alg the key does not fit, and on a changed signature byte', () => {
    const key = testKey('EdDSA', 'k-1');
    const { text } = issueToken({
      privateKey: key.privateKey,
      kid: 'k-1',
      alg: 'EdDSA',
      claims: freshClaims(),
    });
    const bytes = coseBytes(text);
    const es = testKey('ES256');
    expect(
      explainCoseSign1(bytes, { publicKey: es.publicKey, alg: 'ES256', kid: 'k-1' }),
    ).toMatchObject({ ok: false, reason: 'unknown_key' });
    const changed = Uint8Array.from(bytes);
    changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 1;
    const bad = explainCoseSign1(changed, { publicKey: key.publicKey, alg: 'EdDSA', kid: 'k-1' });
    expect(bad).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(outcomes(bad.checks)).toEqual(['pass', 'pass', 'fail', 'skipped']);
  });
});

/** The COSE_Sign1 bytes inside an RP1 text. */
function coseBytes(text: string): Uint8Array {
  const bytes = decodeBase45(text.slice(4));
  if (!bytes.ok) throw new Error(bytes.detail);
  return bytes.value;
}

// The scenarios of the RP1 test vectors, one list per algorithm. Used by make-vectors.mjs.
import { createHash } from 'node:crypto';
import { Tag } from 'cbor2';
import { encodeCbor } from '../dist/token/cbor.js';
import { buildClaimsMap } from '../dist/token/claims.js';
import {
  bstr,
  buildSign1,
  concat,
  flipBit,
  indexOf,
  mapWithPairs,
  qrText,
  signWith,
} from './vector-tools.mjs';

/** Verification time of most vectors: 2026-03-01T12:00:00Z. */
export const NOW = 1_772_366_400;
export const ISS = 'rp1.example';
export const SUB = 'rider-42';
export const SITE = 'site-a';
export const SKEW_SEC = 30;
export const REOPEN_GRACE_SEC = 20;
const ALG_ID = { EdDSA: -8, ES256: -7 };
/** Order of the P-256 group, for the high-s form of an ES256 signature. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** A fixed 8-byte cti per vector name. */
const ctiFor = (name) => new Uint8Array(createHash('sha256').update(name).digest().subarray(0, 8));
const kidBytes = (kid) => new TextEncoder().encode(kid);
const hex = (b) => Buffer.from(b).toString('hex');

/** Protected header bytes {1: alg, 4: kid}, preferred (shortest) encoding. */
export function protectedFor(alg, kid) {
  const map = new Map([[1, ALG_ID[alg]]]);
  if (kid !== undefined) map.set(4, kidBytes(kid));
  return encodeCbor(map);
}

/** A trust list document with one issuer; `keys` are entries { key, notBefore?, notAfter? }. */
function trustDoc(keys, issuer = {}) {
  const entries = keys.map(({ key, ...window }) => ({
    kid: key.kid,
    alg: key.alg,
    jwk: key.jwk,
    ...window,
  }));
  return { version: 1, issuers: [{ iss: ISS, maxLifetimeSec: 300, ...issuer, keys: entries }] };
}

/** Claims valid at `at` for two minutes, with the vector's own cti. */
function claimsFor(name, over = {}, at = NOW) {
  return { iss: ISS, sub: SUB, iat: at - 10, exp: at + 110, cti: ctiFor(name), ...over };
}

const payloadOf = (claims) => encodeCbor(buildClaimsMap(claims));

/** What the verifier reports for these claims (cti and a byte sub as lowercase hex). */
function expectedClaims(c) {
  const out = { iss: c.iss, sub: typeof c.sub === 'string' ? c.sub : hex(c.sub) };
  Object.assign(out, { exp: c.exp, iat: c.iat, cti: hex(c.cti) });
  if (c.nbf !== undefined) out.nbf = c.nbf;
  if (c.sites !== undefined) out.sites = c.sites;
  return out;
}

const admit = (claims) => ({ result: 'admit', claims: expectedClaims(claims) });
const reopen = (claims) => ({ result: 'reopen', claims: expectedClaims(claims) });
const deny = (reason) => ({ result: 'deny', reason });

/** An ordinary token: kid in the protected header, tagged unless told otherwise. */
function tokenBytes(key, claims, opt = {}) {
  return buildSign1({
    key,
    protectedBytes: protectedFor(key.alg, opt.kid ?? key.kid),
    payload: payloadOf(claims),
    tagged: opt.tagged ?? true,
  });
}

/** A token whose payload is the given claims map as is (no type checks). */
function rawClaimsToken(key, claimsMap) {
  const payload = claimsMap instanceof Uint8Array ? claimsMap : encodeCbor(claimsMap);
  return buildSign1({ key, protectedBytes: protectedFor(key.alg, key.kid), payload });
}

/** The claims of `claimsFor` as a Map, for wrong-type variants. */
function claimsMap(name, over = {}) {
  const c = claimsFor(name);
  const map = new Map([
    [1, c.iss],
    [2, c.sub],
    [4, c.exp],
    [6, c.iat],
    [7, c.cti],
  ]);
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) map.delete(Number(k));
    else map.set(Number(k), v);
  }
  return map;
}

/**
 * Every vector for one algorithm. `k` holds main, next (rotation), forger and other (a key of
 * the other algorithm). Returns [{ name, description, cose?, qr?, expected, trust?, atSec?,
 * site?, gate? }].
 */
export function casesFor(prefix, k) {
  const trust = trustDoc([{ key: k.main }]);
  const out = [];
  const add = (name, description, build) => {
    const full = `${prefix}-${name}`;
    out.push({ name: full, description, trust, ...build(full) });
  };
  const ctx = { k, add, trust };
  admitCases(ctx);
  malformedTextCases(ctx);
  malformedCborCases(ctx);
  malformedClaimCases(ctx);
  keyCases(ctx);
  signatureCases(ctx);
  timeAndSiteCases(ctx);
  gateCases(ctx);
  rotationCases(ctx);
  return out;
}

function admitCases({ k, add }) {
  const simple = (name, description, over = {}, opt = {}) =>
    add(name, description, (n) => {
      const c = claimsFor(n, over);
      return { cose: tokenBytes(k.main, c, opt), expected: admit(c) };
    });
  simple('admit-tagged', 'tagged COSE_Sign1 (tag 18), kid in the protected header');
  simple('admit-untagged', 'untagged COSE_Sign1', {}, { tagged: false });
  simple('admit-nbf', 'nbf present and passed', { nbf: NOW - 10 });
  simple('admit-within-skew', 'iat and nbf 30 s ahead: inside the 30 s skew', {
    iat: NOW + 30,
    nbf: NOW + 30,
    exp: NOW + 150,
  });
  simple('admit-token-sites', 'token sites claim names this site', { sites: ['site-a', 'site-b'] });
  simple('admit-sub-bytes', 'sub as a byte string, reported as lowercase hex', {
    sub: new Uint8Array([0x0f, 0xa0, 0x42]),
  });
  simple('admit-max-lifetime', 'exp − iat equals the issuer maximum (300 s)', {
    exp: NOW + 290,
  });
  simple('admit-last-second', 'exp is one second after the verification time', {
    exp: NOW + 1,
  });
  add('admit-issuer-sites', 'issuer trusted at this site and one other', (n) => {
    const c = claimsFor(n);
    const trust = trustDoc([{ key: k.main }], { sites: ['site-a', 'site-b'] });
    return { cose: tokenBytes(k.main, c), trust, expected: admit(c) };
  });
  add('admit-key-window', 'trusted key with notBefore and notAfter around the time', (n) => {
    const c = claimsFor(n);
    const trust = trustDoc([{ key: k.main, notBefore: NOW - 3600, notAfter: NOW + 3600 }]);
    return { cose: tokenBytes(k.main, c), trust, expected: admit(c) };
  });
  add('admit-kid-unprotected', 'kid only in the unprotected header', (n) => {
    const c = claimsFor(n);
    const cose = buildSign1({
      key: k.main,
      protectedBytes: protectedFor(k.main.alg),
      unprotected: new Map([[4, kidBytes(k.main.kid)]]),
      payload: payloadOf(c),
    });
    return { cose, expected: admit(c) };
  });
  add('admit-protected-kid-wins', 'kid in both headers: the protected one is used', (n) => {
    const c = claimsFor(n);
    const cose = buildSign1({
      key: k.main,
      protectedBytes: protectedFor(k.main.alg, k.main.kid),
      unprotected: new Map([[4, kidBytes('no-such-kid')]]),
      payload: payloadOf(c),
    });
    return { cose, expected: admit(c) };
  });
  add(
    'admit-protected-as-received',
    'protected header with alg in a longer (non-preferred) integer encoding, signed as sent: ' +
      'the verifier must use the received bytes, never re-encode them',
    (n) => {
      const c = claimsFor(n);
      const alg = -1 - ALG_ID[k.main.alg];
      const kid = kidBytes(k.main.kid);
      const protectedBytes = concat([0xa2, 0x01, 0x38, alg, 0x04], bstr(kid));
      return {
        cose: buildSign1({ key: k.main, protectedBytes, payload: payloadOf(c) }),
        expected: admit(c),
      };
    },
  );
  add('admit-unknown-claim-ignored', 'an extra claim (aud, 3) is ignored', (n) => {
    const c = claimsFor(n);
    const map = buildClaimsMap(c);
    map.set(3, 'gates');
    return { cose: rawClaimsToken(k.main, map), expected: admit(c) };
  });
}

function malformedTextCases({ k, add }) {
  const good = (n) => qrText(tokenBytes(k.main, claimsFor(n)));
  const text = (name, description, make) =>
    add(name, description, (n) => ({ qr: make(good(n), n), expected: deny('malformed') }));
  text('malformed-no-prefix', 'base45 without the RP1: prefix', (t) => t.slice(4));
  text('malformed-lowercase-prefix', 'prefix in lower case', (t) => `rp1:${t.slice(4)}`);
  text('malformed-empty', 'the prefix alone', () => 'RP1:');
  text(
    'malformed-too-long',
    'longer than 1024 characters (the size limit)',
    (t) => `${t}${'000'.repeat(Math.ceil((1025 - t.length) / 3))}`,
  );
  text(
    'malformed-bad-base45-char',
    'a lower-case letter: outside the base45 alphabet',
    (t) => `${t.slice(0, 10)}a${t.slice(11)}`,
  );
  text('malformed-trailing-single-char', 'base45 length leaves one character over', (t) =>
    (t.length - 4) % 3 === 0 ? `${t}0` : t.slice(0, -1),
  );
  text(
    'malformed-overflowing-triple',
    'first triple GGW encodes 65536 (> 65535)',
    (t) => `RP1:GGW${t.slice(7)}`,
  );
  text('malformed-overflowing-pair', 'final pair ZZ encodes 1610 (> 255)', (t) =>
    (t.length - 4) % 3 === 0 ? `${t}ZZ` : `${t.slice(0, -2)}ZZ`,
  );
  text('malformed-whitespace', 'a line break after the token', (t) => `${t}\n`);
}

function malformedCborCases({ k, add }) {
  const bytes = (name, description, make) =>
    add(name, description, (n) => ({ cose: make(n), expected: deny('malformed') }));
  const plain = (n) => tokenBytes(k.main, claimsFor(n));
  const parts = (n) => {
    const c = claimsFor(n);
    return { prot: protectedFor(k.main.alg, k.main.kid), payload: payloadOf(c) };
  };
  bytes('malformed-truncated', 'COSE_Sign1 cut short by 10 bytes', (n) => plain(n).slice(0, -10));
  bytes('malformed-trailing-cbor-bytes', 'one byte (0x00) after the COSE_Sign1', (n) =>
    concat(plain(n), [0x00]),
  );
  bytes('malformed-indefinite-length', 'the COSE_Sign1 array in indefinite-length form', (n) => {
    const { prot, payload } = parts(n);
    const sig = signWith(k.main, sigStructureOf(prot, payload));
    return concat([0xd2, 0x9f], bstr(prot), [0xa0], bstr(payload), bstr(sig), [0xff]);
  });
  bytes('malformed-three-items', 'COSE_Sign1 array of three items', (n) => {
    const { prot, payload } = parts(n);
    return encodeCbor(new Tag(18, [prot, new Map(), payload]));
  });
  bytes('malformed-other-tag', 'tag 98 (COSE_Sign) around a Sign1 body', (n) => {
    const { prot, payload } = parts(n);
    const sig = signWith(k.main, sigStructureOf(prot, payload));
    return encodeCbor(new Tag(98, [prot, new Map(), payload, sig]));
  });
  bytes('malformed-protected-not-bstr', 'protected header as a map, not a byte string', (n) => {
    const { payload } = parts(n);
    const prot = new Map([
      [1, ALG_ID[k.main.alg]],
      [4, kidBytes(k.main.kid)],
    ]);
    return encodeCbor(new Tag(18, [prot, new Map(), payload, new Uint8Array(64)]));
  });
  bytes('malformed-duplicate-key-protected', 'protected header with key 1 (alg) twice', (n) => {
    const prot = mapWithPairs([
      [1, ALG_ID[k.main.alg]],
      [4, kidBytes(k.main.kid)],
      [1, ALG_ID[k.main.alg]],
    ]);
    return buildSign1({ key: k.main, protectedBytes: prot, payload: parts(n).payload });
  });
  bytes('malformed-duplicate-key-claims', 'claims map with iss (1) twice, same value', (n) => {
    const c = claimsFor(n);
    const payload = mapWithPairs([
      [1, c.iss],
      [2, c.sub],
      [4, c.exp],
      [6, c.iat],
      [7, c.cti],
      [1, c.iss],
    ]);
    return rawClaimsToken(k.main, payload);
  });
  bytes('malformed-too-deep', 'claim 99 holds ten nested arrays', (n) => {
    let deep = 0;
    for (let i = 0; i < 10; i++) deep = [deep];
    return rawClaimsToken(k.main, claimsMap(n, { 99: deep }));
  });
  bytes('malformed-payload-trailing-bytes', 'payload has a byte after the claims map', (n) => {
    return rawClaimsToken(k.main, concat(payloadOf(claimsFor(n)), [0x00]));
  });
  bytes('malformed-payload-not-map', 'payload is a CBOR array', () =>
    rawClaimsToken(k.main, [ISS, SUB]),
  );
  const header = (name, description, prot, unprot = new Map()) =>
    bytes(name, description, (n) =>
      buildSign1({
        key: k.main,
        protectedBytes: prot,
        unprotected: unprot,
        payload: parts(n).payload,
      }),
    );
  header(
    'malformed-alg-unprotected',
    'alg only in the unprotected header',
    encodeCbor(new Map([[4, kidBytes(k.main.kid)]])),
    new Map([[1, ALG_ID[k.main.alg]]]),
  );
  header(
    'malformed-alg-unsupported',
    'alg -35 (ES384)',
    encodeCbor(
      new Map([
        [1, -35],
        [4, kidBytes(k.main.kid)],
      ]),
    ),
  );
  header(
    'malformed-crit',
    'crit (2) header parameter present',
    encodeCbor(
      new Map([
        [1, ALG_ID[k.main.alg]],
        [2, [99]],
        [4, kidBytes(k.main.kid)],
        [99, 1],
      ]),
    ),
  );
  header('malformed-no-kid', 'no kid in either header', protectedFor(k.main.alg));
  header(
    'malformed-kid-text',
    'kid as a text string, not a byte string',
    encodeCbor(
      new Map([
        [1, ALG_ID[k.main.alg]],
        [4, k.main.kid],
      ]),
    ),
  );
}

function sigStructureOf(prot, payload, aad = new Uint8Array(0)) {
  return encodeCbor(['Signature1', prot, aad, payload]);
}

function malformedClaimCases({ k, add }) {
  const wrong = (name, description, over) =>
    add(name, description, (n) => ({
      cose: rawClaimsToken(k.main, claimsMap(n, over)),
      expected: deny('malformed'),
    }));
  wrong('malformed-exp-text', 'exp (4) as text', { 4: String(NOW + 110) });
  wrong('malformed-iat-float', 'iat (6) with a fraction', { 6: NOW - 9.5 });
  wrong('malformed-nbf-negative', 'nbf (5) negative', { 5: -1 });
  wrong('malformed-iss-integer', 'iss (1) as an integer', { 1: 7 });
  wrong('malformed-sub-missing', 'no sub (2)', { 2: undefined });
  wrong('malformed-cti-text', 'cti (7) as text', { 7: 'abc' });
  wrong('malformed-cti-empty', 'cti (7) as an empty byte string', { 7: new Uint8Array(0) });
  wrong('malformed-sites-text', 'sites (-70001) as text, not an array', { '-70001': 'site-a' });
  wrong('malformed-sites-item-integer', 'sites (-70001) holding an integer', { '-70001': [1] });
}

function keyCases({ k, add }) {
  const denyKey = (name, description, make) =>
    add(name, description, (n) => ({ ...make(n), expected: deny('unknown_key') }));
  denyKey('unknown-key-kid', 'kid not in the trust list', (n) => ({
    cose: tokenBytes(k.main, claimsFor(n), { kid: 'zz-9' }),
  }));
  denyKey('unknown-key-iss', 'issuer not in the trust list', (n) => ({
    cose: tokenBytes(k.main, claimsFor(n, { iss: 'other.example' })),
  }));
  denyKey('unknown-key-alg-mismatch', 'header alg differs from the trusted key alg', (n) => ({
    cose: tokenBytes(k.other, claimsFor(n), { kid: k.main.kid }),
  }));
  denyKey('unknown-key-not-yet-valid', 'trusted key notBefore is after the time', (n) => ({
    cose: tokenBytes(k.main, claimsFor(n)),
    trust: trustDoc([{ key: k.main, notBefore: NOW + 60 }]),
  }));
  denyKey('unknown-key-retired', 'trusted key notAfter is before the time', (n) => ({
    cose: tokenBytes(k.main, claimsFor(n)),
    trust: trustDoc([{ key: k.main, notAfter: NOW - 60 }]),
  }));
  denyKey('unknown-key-retired-exactly', 'trusted key notAfter equals the time', (n) => ({
    cose: tokenBytes(k.main, claimsFor(n)),
    trust: trustDoc([{ key: k.main, notAfter: NOW }]),
  }));
  denyKey('unknown-key-kid-not-utf8', 'kid bytes ff fe are not UTF-8', (n) => {
    const protectedBytes = encodeCbor(
      new Map([
        [1, ALG_ID[k.main.alg]],
        [4, new Uint8Array([0xff, 0xfe])],
      ]),
    );
    return { cose: buildSign1({ key: k.main, protectedBytes, payload: payloadOf(claimsFor(n)) }) };
  });
}

function signatureCases({ k, add }) {
  const bad = (name, description, make) =>
    add(name, description, (n) => ({ cose: make(n), expected: deny('bad_signature') }));
  bad('bad-signature-other-key', 'signed by another key under the trusted kid', (n) =>
    tokenBytes({ ...k.forger, kid: k.main.kid }, claimsFor(n)),
  );
  bad('bad-signature-flipped-signature-byte', 'last signature byte changed', (n) => {
    const cose = tokenBytes(k.main, claimsFor(n));
    return flipBit(cose, cose.length - 1);
  });
  bad('bad-signature-flipped-payload-byte', "sub changed from 'rider-42' to 'rider-43'", (n) => {
    const cose = tokenBytes(k.main, claimsFor(n));
    return flipBit(cose, indexOf(cose, new TextEncoder().encode('rider-42')) + 7);
  });
  bad(
    'bad-signature-reencoded-protected',
    'signed over the preferred protected bytes, sent with alg in a longer encoding',
    (n) => {
      const sent = concat(
        [0xa2, 0x01, 0x38, -1 - ALG_ID[k.main.alg], 0x04],
        bstr(kidBytes(k.main.kid)),
      );
      const signedProtected = protectedFor(k.main.alg, k.main.kid);
      return buildSign1({
        key: k.main,
        protectedBytes: sent,
        signedProtected,
        payload: payloadOf(claimsFor(n)),
      });
    },
  );
  bad('bad-signature-external-aad', "signed with external_aad h'01' instead of empty", (n) => {
    const prot = protectedFor(k.main.alg, k.main.kid);
    const payload = payloadOf(claimsFor(n));
    const signature = signWith(k.main, sigStructureOf(prot, payload, new Uint8Array([1])));
    return buildSign1({ key: k.main, protectedBytes: prot, payload, signature });
  });
  bad(
    'bad-signature-forged-and-expired',
    'checks run in order: a forged, expired token is bad_signature',
    (n) =>
      tokenBytes({ ...k.forger, kid: k.main.kid }, claimsFor(n, { exp: NOW - 60, iat: NOW - 120 })),
  );
  if (k.main.alg === 'ES256') {
    bad('bad-signature-der', 'ECDSA signature in DER form instead of r‖s', (n) => {
      const prot = protectedFor('ES256', k.main.kid);
      const payload = payloadOf(claimsFor(n));
      const signature = derFromRaw(signWith(k.main, sigStructureOf(prot, payload)));
      return buildSign1({ key: k.main, protectedBytes: prot, payload, signature });
    });
    add(
      'admit-high-s',
      'the same signature with s replaced by n − s (still valid ECDSA): admitted; ' +
        'replay and revocation therefore key on cti, not on the text',
      (n) => {
        const c = claimsFor(n);
        const prot = protectedFor('ES256', k.main.kid);
        const payload = payloadOf(c);
        const sig = signWith(k.main, sigStructureOf(prot, payload));
        const s = BigInt(`0x${hex(sig.subarray(32))}`);
        const highS = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
        const signature = concat(sig.subarray(0, 32), highS);
        return {
          cose: buildSign1({ key: k.main, protectedBytes: prot, payload, signature }),
          expected: admit(c),
        };
      },
    );
  } else {
    bad('bad-signature-short', 'Ed25519 signature of 63 bytes', (n) => {
      const prot = protectedFor('EdDSA', k.main.kid);
      const payload = payloadOf(claimsFor(n));
      const signature = signWith(k.main, sigStructureOf(prot, payload)).subarray(0, 63);
      return buildSign1({ key: k.main, protectedBytes: prot, payload, signature });
    });
  }
}

/** r‖s → DER SEQUENCE { INTEGER r, INTEGER s } (the form COSE forbids). */
function derFromRaw(sig) {
  const int = (b) => {
    let v = Buffer.from(b);
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(sig.subarray(0, 32)), int(sig.subarray(32))]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30, body.length]), body]));
}

function timeAndSiteCases({ k, add }) {
  const denied = (name, description, reason, over, trust) =>
    add(name, description, (n) => {
      const built = { cose: tokenBytes(k.main, claimsFor(n, over)), expected: deny(reason) };
      return trust ? { ...built, trust } : built;
    });
  denied('not-yet-valid-nbf', 'nbf 31 s ahead (skew 30 s)', 'not_yet_valid', { nbf: NOW + 31 });
  denied('not-yet-valid-iat', 'iat 31 s ahead (skew 30 s)', 'not_yet_valid', {
    iat: NOW + 31,
    exp: NOW + 200,
  });
  denied('expired-exactly', 'exp equals the verification time', 'expired', { exp: NOW });
  denied('expired', 'exp 60 s ago', 'expired', { iat: NOW - 180, exp: NOW - 60 });
  denied('lifetime-too-long', 'exp − iat is 301 s, the issuer allows 300', 'lifetime_too_long', {
    exp: NOW + 291,
  });
  denied(
    'lifetime-too-long-issuer',
    'exp − iat is 120 s, this issuer allows 60',
    'lifetime_too_long',
    {},
    trustDoc([{ key: k.main }], { maxLifetimeSec: 60 }),
  );
  denied('wrong-site-token', 'token sites do not name this site', 'wrong_site', {
    sites: ['site-b', 'site-c'],
  });
  denied(
    'wrong-site-issuer',
    'the issuer is not trusted at this site',
    'wrong_site',
    {},
    trustDoc([{ key: k.main }], { sites: ['site-b'] }),
  );
  denied('expired-before-wrong-site', 'checks run in order: expired before wrong_site', 'expired', {
    iat: NOW - 180,
    exp: NOW - 60,
    sites: ['site-b'],
  });
}

function gateCases({ k, add }) {
  const gated = (name, description, expected, gate) =>
    add(name, description, (n) => {
      const c = claimsFor(n);
      return { cose: tokenBytes(k.main, c), gate: gate(c), expected: expected(c) };
    });
  gated(
    'revoked-sub',
    'the rider (sub) is revoked',
    () => deny('revoked'),
    (c) => ({
      revoked: [{ kind: 'sub', value: c.sub }],
    }),
  );
  gated(
    'revoked-cti',
    'the token (cti) is revoked',
    () => deny('revoked'),
    (c) => ({
      revoked: [{ kind: 'cti', value: hex(c.cti) }],
    }),
  );
  gated(
    'revoked-before-replayed',
    'revoked and used before: revoked',
    () => deny('revoked'),
    (c) => ({
      revoked: [{ kind: 'sub', value: c.sub }],
      usedBefore: { cti: hex(c.cti), firstUsedSecAgo: 60 },
    }),
  );
  gated('admit-other-revoked', 'another rider and token are revoked', admit, () => ({
    revoked: [
      { kind: 'sub', value: 'rider-7' },
      { kind: 'cti', value: '0011223344556677' },
    ],
  }));
  gated(
    'replayed',
    'used at this gate 60 s ago (grace 20 s)',
    () => deny('replayed'),
    (c) => ({
      usedBefore: { cti: hex(c.cti), firstUsedSecAgo: 60 },
    }),
  );
  gated(
    'replayed-after-grace',
    'used 21 s ago (grace 20 s)',
    () => deny('replayed'),
    (c) => ({
      usedBefore: { cti: hex(c.cti), firstUsedSecAgo: 21 },
    }),
  );
  gated('reopen', 'used 5 s ago: within the grace, the barrier re-opens', reopen, (c) => ({
    usedBefore: { cti: hex(c.cti), firstUsedSecAgo: 5 },
  }));
  gated('reopen-at-grace', 'used exactly 20 s ago: still within the grace', reopen, (c) => ({
    usedBefore: { cti: hex(c.cti), firstUsedSecAgo: 20 },
  }));
}

function rotationCases({ k, add }) {
  // Overlap: the old key retires at NOW + 600, the new key is valid from NOW − 600.
  const retireSec = NOW + 600;
  const trust = trustDoc([
    { key: k.main, notAfter: retireSec },
    { key: k.next, notBefore: NOW - 600 },
  ]);
  const rotate = (name, description, key, at, expected) =>
    add(name, description, (n) => {
      const c = claimsFor(n, {}, at);
      return { cose: tokenBytes(key, c), trust, atSec: at, expected: expected(c) };
    });
  rotate('rotation-old-key-in-overlap', 'old key during the overlap', k.main, NOW, admit);
  rotate('rotation-new-key-in-overlap', 'new key during the overlap', k.next, NOW, admit);
  rotate('rotation-old-key-retired', 'old key after its notAfter', k.main, retireSec + 60, () =>
    deny('unknown_key'),
  );
  rotate(
    'rotation-new-key-after-overlap',
    'new key after the old one retired',
    k.next,
    retireSec + 60,
    admit,
  );
}

import { createPrivateKey, sign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import base45 from 'base45';
import { describe, expect, it } from 'vitest';
import { issueToken } from '../../../src/token/issue.js';
import { verifyToken } from '../../../src/token/verify.js';
import { buildTrustList } from '../../../src/trust/trust-list.js';
import { readFixturePrivateKey } from '../../helpers/fixture-key.js';

/*
 * Interoperability with a COSE implementation that is not ours: cose-js (erdtman/cose-js,
 * CommonJS, no types) and the `cbor` package it depends on. cose-js signs and verifies ES256
 * but has no EdDSA, so the EdDSA direction builds the COSE_Sign1 with `cbor` and node:crypto
 * directly, without any of the project's token code.
 */
const require = createRequire(import.meta.url);

interface CoseJs {
  sign: {
    create(
      headers: { p?: Record<string, string>; u?: Record<string, string> },
      payload: Buffer,
      signer: { key: { d: Buffer } },
      options?: { excludetag?: boolean },
    ): Promise<Buffer>;
    verify(
      message: Buffer,
      verifier: { key: { x: Buffer; y: Buffer } },
      options?: { defaultType?: number },
    ): Promise<Buffer>;
  };
}
interface CborPackage {
  encode(value: unknown): Buffer;
  decodeFirstSync(bytes: Buffer): unknown;
  Tagged: new (tag: number, value: unknown) => unknown;
}

const cose = require('cose-js') as CoseJs;
const cbor = require('cbor') as CborPackage;

const KEYS = join(import.meta.dirname, '..', '..', 'vectors', 'keys');
const NOW_SEC = 1_772_366_400;
const b64u = (s: string | undefined) => Buffer.from(s ?? '', 'base64url');

interface Jwk {
  kty: string;
  crv: string;
  x: string;
  y?: string;
  d: string;
  kid: string;
  alg: 'EdDSA' | 'ES256';
}

function readJwk(kid: string): Jwk {
  return JSON.parse(readFileSync(join(KEYS, `${kid}.key.json`), 'utf8')) as Jwk;
}

const es = readJwk('es-1');
const ed = readJwk('ed-1');

const trust = buildTrustList({
  version: 1,
  issuers: [
    {
      iss: 'rp1.example',
      sites: ['site-a'],
      keys: [es, ed].map(({ d: _d, kid, alg, ...jwk }) => ({ kid, alg, jwk })),
    },
  ],
}).view;
const opts = { trust, nowSec: NOW_SEC, site: 'site-a', skewSec: 30 };

/** The CWT claims as a `cbor` package Map: integer keys (RFC 8392 section 4), bytes as Buffer. */
function claimsWithCborPackage(cti: string): Buffer {
  return cbor.encode(
    new Map<number, unknown>([
      [1, 'rp1.example'],
      [2, 'rider-42'],
      [4, NOW_SEC + 110],
      [6, NOW_SEC - 10],
      [7, Buffer.from(cti, 'hex')],
      [-70001, ['site-a']],
    ]),
  );
}

const qrOf = (message: Buffer) => `RP1:${base45.encode(message)}`;

describe('a token made by cose-js (ES256)', () => {
  it.each([
    ['kid in the protected header, tagged', { p: { alg: 'ES256', kid: 'es-1' } }, false],
    ['kid in the unprotected header, untagged', { p: { alg: 'ES256' }, u: { kid: 'es-1' } }, true],
  ])('verifies with verifyToken: %s', async (_name, headers, excludetag) => {
    const payload = claimsWithCborPackage('c0ffee01');
    const message = await cose.sign.create(
      headers,
      payload,
      { key: { d: b64u(es.d) } },
      {
        excludetag,
      },
    );
    expect(verifyToken(qrOf(message), opts)).toEqual({
      ok: true,
      kid: 'es-1',
      alg: 'ES256',
      claims: {
        iss: 'rp1.example',
        sub: 'rider-42',
        exp: NOW_SEC + 110,
        iat: NOW_SEC - 10,
        cti: 'c0ffee01',
        sites: ['site-a'],
      },
    });
  });

  it('is denied as bad_signature when cose-js signed with another key', async () => {
    const other = 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721';
    const message = await cose.sign.create(
      { p: { alg: 'ES256', kid: 'es-1' } },
      claimsWithCborPackage('c0ffee02'),
      { key: { d: Buffer.from(other, 'hex') } },
    );
    expect(verifyToken(qrOf(message), opts)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });
});

describe('cose-js verifies', () => {
  const verifier = { key: { x: b64u(es.x), y: b64u(es.y) } };
  // Untagged messages are read as COSE_Sign1 (18), not cose-js's default COSE_Sign (98).
  const asSign1 = { defaultType: 18 };

  it('a token made by our issuer, and reads the claims with the cbor package', async () => {
    const { key: privateKey } = readFixturePrivateKey(join(KEYS, 'es-1.key.json'));
    const { text, cti } = issueToken({
      privateKey,
      kid: 'es-1',
      alg: 'ES256',
      claims: { iss: 'rp1.example', sub: 'rider-42', iat: NOW_SEC, exp: NOW_SEC + 60 },
    });
    const payload = await cose.sign.verify(base45.decode(text.slice(4)), verifier, asSign1);
    const claims = cbor.decodeFirstSync(payload) as Map<number, unknown>;
    expect(claims.get(1)).toBe('rp1.example');
    expect(claims.get(2)).toBe('rider-42');
    expect(claims.get(4)).toBe(NOW_SEC + 60);
    expect(Buffer.from(claims.get(7) as Uint8Array).toString('hex')).toBe(cti);
  });

  it('rejects our issuer token with one payload byte changed', async () => {
    const { key: privateKey } = readFixturePrivateKey(join(KEYS, 'es-1.key.json'));
    const { text } = issueToken({
      privateKey,
      kid: 'es-1',
      alg: 'ES256',
      claims: { iss: 'rp1.example', sub: 'rider-42', iat: NOW_SEC, exp: NOW_SEC + 60 },
    });
    const bytes = base45.decode(text.slice(4));
    const at = bytes.indexOf(Buffer.from('rider-42'));
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    await expect(cose.sign.verify(bytes, verifier, asSign1)).rejects.toThrow(/missmatch/);
  });

  // cose-js decodes the protected header and encodes it again before checking; a verifier
  // must use the bytes as received (RFC 9052 section 4.4), so that one vector is left out.
  const dir = join(import.meta.dirname, '..', '..', 'vectors', 'es256');
  const admitted = readdirSync(dir)
    .map(
      (f) =>
        JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
          name: string;
          qr: string;
          expected: { result: string };
        },
    )
    .filter((v) => v.expected.result !== 'deny' && v.name !== 'es256-admit-protected-as-received')
    .filter((v) => !v.name.includes('rotation-new-key'));

  it.each(admitted.map((v) => [v.name, v.qr] as const))(
    'the published vector %s',
    async (_n, qr) => {
      await expect(
        cose.sign.verify(base45.decode(qr.slice(4)), verifier, asSign1),
      ).resolves.toBeInstanceOf(Buffer);
    },
  );
});

describe('an EdDSA token built without the project code (cbor package + node:crypto)', () => {
  function buildEd25519Sign1(protectedMap: Map<number, unknown>, payload: Buffer): Buffer {
    const protectedBytes = cbor.encode(protectedMap);
    // RFC 9052 section 4.4: Sig_structure = ["Signature1", protected, external_aad, payload].
    const toBeSigned = cbor.encode(['Signature1', protectedBytes, Buffer.alloc(0), payload]);
    const key = createPrivateKey({ key: { ...ed, kty: 'OKP' }, format: 'jwk' });
    const signature = sign(null, toBeSigned, key);
    return cbor.encode(new cbor.Tagged(18, [protectedBytes, new Map(), payload, signature]));
  }

  it('verifies with verifyToken', () => {
    const message = buildEd25519Sign1(
      new Map<number, unknown>([
        [1, -8],
        [4, Buffer.from('ed-1')],
      ]),
      claimsWithCborPackage('0e0e'),
    );
    expect(verifyToken(qrOf(message), opts)).toMatchObject({
      ok: true,
      alg: 'EdDSA',
      kid: 'ed-1',
      claims: { cti: '0e0e', sites: ['site-a'] },
    });
  });

  it('our issuer signs the same bytes the independent build signs', () => {
    const { key: privateKey } = readFixturePrivateKey(join(KEYS, 'ed-1.key.json'));
    const claims = { iss: 'rp1.example', sub: 'rider-42', iat: NOW_SEC - 10, exp: NOW_SEC + 110 };
    // A plain Uint8Array: cbor2 (our encoder) writes a Node Buffer as a map, its toJSON form.
    const cti = new Uint8Array([0x0e, 0x0f]);
    const ours = issueToken({
      privateKey,
      kid: 'ed-1',
      alg: 'EdDSA',
      claims: { ...claims, cti },
      tagged: true,
    });
    const payload = cbor.encode(
      new Map<number, unknown>([
        [1, claims.iss],
        [2, claims.sub],
        [4, claims.exp],
        [6, claims.iat],
        // The cbor package writes a Uint8Array as a typed-array tag (RFC 8746); a Buffer as bytes.
        [7, Buffer.from(cti)],
      ]),
    );
    const theirs = buildEd25519Sign1(
      new Map<number, unknown>([
        [1, -8],
        [4, Buffer.from('ed-1')],
      ]),
      payload,
    );
    // Ed25519 is deterministic, so equal bytes prove the same encoding and Sig_structure.
    expect(ours.text).toBe(qrOf(theirs));
  });
});

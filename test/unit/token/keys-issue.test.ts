import { createPublicKey } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { isRidergateError } from '../../../src/errors.js';
import { issueToken } from '../../../src/token/issue.js';
import {
  defaultKid,
  readPrivateKey,
  readPublicKey,
  writeKeyPair,
} from '../../../src/token/keys.js';
import { verifyToken } from '../../../src/token/verify.js';
import { readFixturePrivateKey } from '../../helpers/fixture-key.js';
import { freshClaims, optsFor, testKey, trustOf } from './support.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'ridergate-keys-'));

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isRidergateError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

describe('writeKeyPair and readPrivateKey / readPublicKey', () => {
  it.each(['EdDSA', 'ES256'] as const)(
    'round-trips an %s pair that signs verifiable tokens',
    (alg) => {
      const dir = tempDir();
      const written = writeKeyPair(dir, 'issuer', alg);
      expect(statSync(written.privateFile).mode & 0o777).toBe(0o600);
      const priv = readPrivateKey(written.privateFile);
      const pub = readPublicKey(written.publicFile);
      expect(priv).toMatchObject({ kid: written.kid, alg });
      expect(pub).toMatchObject({ kid: written.kid, alg });
      expect(pub.key.type).toBe('public');

      const { text } = issueToken({
        privateKey: priv.key,
        kid: priv.kid,
        alg,
        claims: freshClaims(),
      });
      const trust = trustOf([
        {
          iss: 'demo-eats',
          keys: [{ kid: pub.kid, alg, publicKey: pub.key, privateKey: priv.key }],
        },
      ]);
      expect(verifyToken(text, optsFor(trust)).ok).toBe(true);
    },
  );

  it('defaults kid to the first 4 characters of the RFC 7638 thumbprint', async () => {
    const dir = tempDir();
    const written = writeKeyPair(dir, 'k', 'ES256');
    const jwk = JSON.parse(readFileSync(written.publicFile, 'utf8')) as Record<string, string>;
    const thumbprint = await calculateJwkThumbprint({
      kty: 'EC',
      crv: jwk.crv,
      x: jwk.x,
      y: jwk.y,
    });
    expect(written.kid).toBe(thumbprint.slice(0, 4));
    expect(jwk).toMatchObject({ kid: written.kid, alg: 'ES256' });
    expect(jwk).not.toHaveProperty('d');
  });

  it('keeps a given kid and makes an existing private file 0600 again', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'k.key.json'), '{}', { mode: 0o644 });
    const written = writeKeyPair(dir, 'k', 'EdDSA', 'eats-7');
    expect(written.kid).toBe('eats-7');
    expect(statSync(written.privateFile).mode & 0o777).toBe(0o600);
  });

  it('reads the checked-in fixture key pair', () => {
    const priv = readFixturePrivateKey('test/fixtures/token/demo-eats-ed25519.key.json');
    expect(priv).toMatchObject({ kid: 'eats-2026', alg: 'EdDSA' });
    expect(defaultKid(createPublicKey(priv.key))).toHaveLength(4);
  });
});

describe('key file errors name the file and the problem', () => {
  const dir = tempDir();
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const pubJwk = () =>
    JSON.parse(readFileSync('test/fixtures/token/demo-eats-ed25519.pub.json', 'utf8')) as Record<
      string,
      unknown
    >;

  it.each([
    ['a missing file', () => join(dir, 'nope.json'), 'cannot read the key file (no such file)'],
    ['not JSON', () => file('a.json', 'kty: OKP'), 'not valid JSON'],
    ['a JSON array', () => file('b.json', '[]'), 'expected a JWK object'],
    ['a public key', () => file('c.json', JSON.stringify(pubJwk())), 'not a private key'],
  ])('readPrivateKey: %s', (_name, path, expected) => {
    const p = path();
    const err = errorOf(() => readPrivateKey(p));
    expect(err.code).toBe('key_invalid');
    expect(err.message).toContain(p);
    expect(err.message).toContain(expected);
  });

  it.each([
    ['an unknown alg', { alg: 'RS256' }, '"alg" is "RS256"'],
    ['no alg', { alg: undefined }, 'expected "EdDSA" or "ES256"'],
    ['an alg the key does not fit', { alg: 'ES256' }, 'alg ES256 needs a P-256 (EC) key'],
    ['a broken x', { x: 'AAAA' }, 'not a usable public JWK'],
    ['an empty kid', { kid: '' }, '"kid" must be non-empty text'],
  ])('readPublicKey: %s', (_name, change, expected) => {
    const p = file('d.json', JSON.stringify({ ...pubJwk(), ...change }));
    const err = errorOf(() => readPublicKey(p));
    expect(err).toMatchObject({ code: 'key_invalid', message: expect.stringContaining(expected) });
  });

  it('cannot write into a directory that does not exist', () => {
    const err = errorOf(() => writeKeyPair(join(dir, 'missing', 'dir'), 'k', 'EdDSA'));
    expect(err).toMatchObject({ code: 'key_invalid', message: expect.stringContaining('ENOENT') });
  });

  it('keeps unreadable files an error, not a crash', () => {
    const p = file('e.json', '{}');
    chmodSync(p, 0o000);
    const err = errorOf(() => readPublicKey(p));
    expect(err.code).toBe('key_invalid');
  });
});

describe('readPrivateKey refuses a key file group or others can reach', () => {
  const written = writeKeyPair(tempDir(), 'issuer', 'EdDSA');

  it.each([
    [0o644, '0644'],
    [0o640, '0640'],
    [0o604, '0604'],
    [0o620, '0620'],
    [0o602, '0602'],
    [0o666, '0666'],
    [0o700 | 0o007, '0707'],
  ])('mode %o: names the file, the mode found and the fix', (mode, shown) => {
    chmodSync(written.privateFile, mode);
    const err = errorOf(() => readPrivateKey(written.privateFile));
    expect(err.code).toBe('key_invalid');
    expect(err.message).toContain(`${written.privateFile}: private key file has mode ${shown}`);
    expect(err.message).toContain(`Fix: chmod 600 ${written.privateFile}`);
  });

  it.each([0o600, 0o400, 0o700])('accepts mode %o (owner only)', (mode) => {
    chmodSync(written.privateFile, mode);
    expect(readPrivateKey(written.privateFile).kid).toBe(written.kid);
  });

  it('never quotes the key in the message', () => {
    chmodSync(written.privateFile, 0o644);
    const jwk = JSON.parse(readFileSync(written.privateFile, 'utf8')) as { d: string };
    expect(errorOf(() => readPrivateKey(written.privateFile)).message).not.toContain(jwk.d);
  });

  it('still says "not a private key" for a public key file of mode 0644', () => {
    expect(statSync(written.publicFile).mode & 0o777).toBe(0o644);
    expect(errorOf(() => readPrivateKey(written.publicFile)).message).toContain(
      'not a private key',
    );
  });

  it('does not check public key files', () => {
    expect(readPublicKey(written.publicFile).kid).toBe(written.kid);
  });

  it('reads a checked-in fixture key through a private copy, whatever its checkout mode', () => {
    const dir = tempDir();
    const copy = join(dir, 'fixture.key.json');
    writeFileSync(copy, readFileSync('test/fixtures/token/demo-eats-ed25519.key.json'));
    chmodSync(copy, 0o644);
    expect(errorOf(() => readPrivateKey(copy)).message).toContain('chmod 600');
    expect(readFixturePrivateKey(copy).kid).toBe('eats-2026');
    expect(statSync(copy).mode & 0o777).toBe(0o644);
  });
});

describe('issueToken', () => {
  const key = testKey('EdDSA');

  it('generates an 8-byte cti when none is given, different each time', () => {
    const a = issueToken({
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA',
      claims: freshClaims(),
    });
    const b = issueToken({
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA',
      claims: freshClaims(),
    });
    expect(a.cti).toMatch(/^[0-9a-f]{16}$/);
    expect(a.cti).not.toBe(b.cti);
    expect(a.text).toMatch(/^RP1:[0-9A-Z $%*+\-./:]+$/);
  });

  it('is deterministic for EdDSA with a fixed cti', () => {
    const input = {
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA' as const,
      claims: { ...freshClaims(), cti: new Uint8Array([7]) },
    };
    expect(issueToken(input).text).toBe(issueToken(input).text);
  });

  it.each([
    ['an empty kid', { kid: '' }, 'kid is empty'],
    ['a fractional exp', { claims: { ...freshClaims(), exp: 1.5 } }, 'exp (4)'],
    ['an empty iss', { claims: { ...freshClaims(), iss: '' } }, 'iss (1)'],
    ['a key that does not fit the alg', { alg: 'ES256' as const }, 'does not fit alg ES256'],
    [
      'a token too long for the limit',
      {
        claims: {
          ...freshClaims(),
          sites: Array.from({ length: 60 }, (_, i) => `site-number-${i}`),
        },
      },
      'the limit is 1024',
    ],
  ])('refuses %s with token_invalid', (_name, change, expected) => {
    const input = {
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA' as const,
      claims: freshClaims(),
      ...change,
    };
    expect(errorOf(() => issueToken(input))).toMatchObject({
      code: 'token_invalid',
      message: expect.stringContaining(expected),
    });
  });
});

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RidergateError } from '../errors.js';
import { readBoundedFile, statOrThrow } from '../files.js';
import { keyFitsAlg } from './cose.js';
import type { TokenAlg } from './types.js';

/** A key read from a JWK file. */
export interface LoadedKey {
  key: KeyObject;
  kid: string;
  alg: TokenAlg;
}

/** Largest key file read, bytes. A JWK is a few hundred. */
const MAX_KEY_FILE_BYTES = 16 * 1024;

/** A fresh key pair: Ed25519 for EdDSA, P-256 for ES256. */
export function generateKeyPair(alg: TokenAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  return alg === 'EdDSA'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** Length of a default kid, characters (each carries 6 bits of the thumbprint). */
export const DEFAULT_KID_CHARS = 4;

/**
 * The default kid of a public key: the first DEFAULT_KID_CHARS (4) characters of its RFC 7638
 * JWK thumbprint (SHA-256, base64url). A kid only has to tell apart the few keys of one
 * issuer (the trust list refuses two keys with the same kid for an issuer, so a clash shows
 * up when the list is built, and `keys gen --kid` picks another); the signature, not the
 * kid, authenticates. Its bytes travel in every token, and each one counts toward the QR
 * target of version 8 at level M.
 */
export function defaultKid(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  // RFC 7638 section 3.2: only the required members, in lexicographic order, no whitespace.
  const members =
    jwk.kty === 'OKP'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256')
    .update(JSON.stringify(members))
    .digest('base64url')
    .slice(0, DEFAULT_KID_CHARS);
}

/**
 * Generates a key pair and writes `<name>.key.json` (private JWK, mode 0600) and
 * `<name>.pub.json` (public JWK) into `dir`. Both carry `kid` and `alg`.
 * @param kid defaults to `defaultKid` of the public key.
 * @throws RidergateError `key_invalid` when a file cannot be written.
 */
export function writeKeyPair(
  dir: string,
  name: string,
  alg: TokenAlg,
  kid?: string,
): { kid: string; privateFile: string; publicFile: string } {
  const { privateKey, publicKey } = generateKeyPair(alg);
  const keyKid = kid ?? defaultKid(publicKey);
  const privateFile = join(dir, `${name}.key.json`);
  const publicFile = join(dir, `${name}.pub.json`);
  const extra = { kid: keyKid, alg };
  writeJson(privateFile, { ...privateKey.export({ format: 'jwk' }), ...extra }, 0o600);
  writeJson(publicFile, publicJwk({ key: publicKey, kid: keyKid, alg }), 0o644);
  return { kid: keyKid, privateFile, publicFile };
}

/**
 * The public JWK of a loaded key with its `kid` and `alg`, as `<name>.pub.json` holds it:
 * only public members, whatever the key was read from.
 */
export function publicJwk(loaded: LoadedKey): JsonWebKey {
  const key = loaded.key.type === 'private' ? createPublicKey(loaded.key) : loaded.key;
  return { ...key.export({ format: 'jwk' }), kid: loaded.kid, alg: loaded.alg };
}

/** The text of a public JWK file: {@link publicJwk}, two-space indented, newline at the end. */
export function publicJwkText(loaded: LoadedKey): string {
  return `${JSON.stringify(publicJwk(loaded), null, 2)}\n`;
}

/**
 * Whether a JWK carries private key material: `d`, the private member of both OKP
 * (RFC 8037 section 2) and EC keys (RFC 7518 section 6.2.2.1).
 */
export function holdsPrivateKey(jwk: object): boolean {
  return 'd' in jwk;
}

function writeJson(file: string, value: object, mode: number): void {
  try {
    writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode });
    // `mode` only applies when the file is created; an existing file keeps its own.
    chmodSync(file, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new RidergateError('key_invalid', `${file}: cannot write the key file (${code})`, {
      cause: err,
    });
  }
}

/**
 * Reads a private key from a JWK file written by `writeKeyPair` (or any JWK with `d`,
 * `alg` and optionally `kid`; kid defaults to `defaultKid`). The file must be accessible to
 * its owner only (mode 0600 or stricter): a key others can read may already be copied.
 * @throws RidergateError `key_invalid` naming the file and what is wrong.
 */
export function readPrivateKey(file: string): LoadedKey {
  const jwk = readJwk(file);
  if (typeof jwk.d !== 'string') {
    throw new RidergateError(
      'key_invalid',
      `${file}: not a private key (no "d" member); use the .key.json file`,
    );
  }
  checkPrivateMode(file);
  const key = importJwk(file, jwk, 'private');
  return finishKey(file, jwk, key, createPublicKey(key));
}

/**
 * Reads a public key from a JWK file. A private JWK is accepted too; only its public half
 * is kept.
 * @throws RidergateError `key_invalid` naming the file and what is wrong.
 */
export function readPublicKey(file: string): LoadedKey {
  const jwk = readJwk(file);
  const key = importJwk(file, jwk, 'public');
  return finishKey(file, jwk, key, key);
}

/**
 * Reads a public key from a JWK file that must hold nothing private: for a key that is copied
 * where others may read it (the fleet root key in /etc/ridergate).
 * @throws RidergateError `key_invalid` when the file holds a private key (`d`), or as
 *   {@link readPublicKey}.
 */
export function readPublicOnlyKey(file: string): LoadedKey {
  const jwk = readJwk(file);
  if (holdsPrivateKey(jwk)) {
    throw new RidergateError(
      'key_invalid',
      `${file}: holds a private key ("d"); give the public key (the .pub.json file), and treat that private key as leaked if it was copied anywhere`,
    );
  }
  const key = importJwk(file, jwk, 'public');
  return finishKey(file, jwk, key, key);
}

/** Permission bits of group and others: a private key file must have none of them. */
const GROUP_OTHER_BITS = 0o077;

/** Refuses a private key file that group or others may read or write. */
function checkPrivateMode(file: string): void {
  const mode = statOrThrow(file, { code: 'key_invalid', what: 'key file' }).mode & 0o777;
  if ((mode & GROUP_OTHER_BITS) === 0) return;
  const octal = mode.toString(8).padStart(4, '0');
  throw new RidergateError(
    'key_invalid',
    `${file}: private key file has mode ${octal}, so group or others can read or write it; ` +
      `refusing to use it. Fix: chmod 600 ${file}`,
    { context: { mode: octal } },
  );
}

/** Parses a JWK file into an object, with a size bound. */
function readJwk(file: string): JsonWebKey {
  const text = readBoundedFile(file, {
    maxBytes: MAX_KEY_FILE_BYTES,
    code: 'key_invalid',
    what: 'key file',
  }).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RidergateError('key_invalid', `${file}: not valid JSON; expected a JWK object`, {
      cause: err,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RidergateError('key_invalid', `${file}: expected a JWK object`);
  }
  return value as JsonWebKey;
}

function importJwk(file: string, jwk: JsonWebKey, kind: 'private' | 'public'): KeyObject {
  try {
    const input = { key: jwk, format: 'jwk' as const };
    return kind === 'private' ? createPrivateKey(input) : createPublicKey(input);
  } catch (err) {
    throw new RidergateError(
      'key_invalid',
      `${file}: not a usable ${kind} JWK (kty ${String(jwk.kty)}, crv ${String(jwk.crv)})`,
      { cause: err },
    );
  }
}

/** Checks alg and kid and returns the loaded key. */
function finishKey(file: string, jwk: JsonWebKey, key: KeyObject, publicKey: KeyObject): LoadedKey {
  const alg = jwk.alg;
  if (alg !== 'EdDSA' && alg !== 'ES256') {
    throw new RidergateError(
      'key_invalid',
      `${file}: "alg" is ${JSON.stringify(alg)}; expected "EdDSA" or "ES256"`,
    );
  }
  if (!keyFitsAlg(key, alg) || key.asymmetricKeyType === 'ed448') {
    const want = alg === 'EdDSA' ? 'an Ed25519 (OKP) key' : 'a P-256 (EC) key';
    throw new RidergateError('key_invalid', `${file}: alg ${alg} needs ${want}`);
  }
  const kid = jwk.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) {
    throw new RidergateError('key_invalid', `${file}: "kid" must be non-empty text`);
  }
  return { key, kid: kid ?? defaultKid(publicKey), alg };
}

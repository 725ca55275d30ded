// Building blocks for scripts/make-vectors.mjs: deterministic signing and hand-built COSE_Sign1
// messages, including layouts the project's issuer never produces. Imports the built code
// (run `npx tsc -p .` first).
import { createECDH, createHash, createHmac, sign, verify } from 'node:crypto';
import { Tag } from 'cbor2';
import { encodeBase45 } from '../dist/token/base45.js';
import { encodeCbor } from '../dist/token/cbor.js';
import { sigStructure } from '../dist/token/cose.js';

/** Order of the P-256 group (SEC 2, section 2.4.2). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const toBig = (bytes) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
const toBytes32 = (n) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
const mod = (a, m) => ((a % m) + m) % m;

function modInverse(a, m) {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

/** x coordinate of k·G on P-256, using the ECDH scalar multiplication of node:crypto. */
function baseMultiplyX(k) {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(toBytes32(k));
  return toBig(ecdh.getPublicKey().subarray(1, 33));
}

const hmac = (key, ...parts) => {
  const h = createHmac('sha256', key);
  for (const part of parts) h.update(part);
  return h.digest();
};

/**
 * ES256 with a deterministic nonce (RFC 6979 section 3.2, HMAC-SHA-256), so regenerating the
 * vectors gives the same bytes. Returns the 64-byte r‖s form COSE uses (RFC 9053 section 2.1).
 * Verifiers must not rely on this: ordinary ES256 signatures are randomised.
 */
export function signEs256Deterministic(dBytes, data) {
  const d = toBig(dBytes);
  const z = toBig(createHash('sha256').update(data).digest());
  const x = toBytes32(d);
  const h = toBytes32(mod(z, P256_N));
  let v = Buffer.alloc(32, 0x01);
  let k = Buffer.alloc(32, 0x00);
  k = hmac(k, v, Buffer.from([0x00]), x, h);
  v = hmac(k, v);
  k = hmac(k, v, Buffer.from([0x01]), x, h);
  v = hmac(k, v);
  for (;;) {
    v = hmac(k, v);
    const nonce = toBig(v);
    if (nonce >= 1n && nonce < P256_N) {
      const r = mod(baseMultiplyX(nonce), P256_N);
      const s = mod(modInverse(nonce, P256_N) * (z + r * d), P256_N);
      if (r !== 0n && s !== 0n) return Buffer.concat([toBytes32(r), toBytes32(s)]);
    }
    k = hmac(k, v, Buffer.from([0x00]));
    v = hmac(k, v);
  }
}

/** RFC 6979 appendix A.2.5, P-256 with SHA-256, message "sample": proves the nonce code. */
export function selfTestRfc6979() {
  const d = Buffer.from('C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721', 'hex');
  const sig = signEs256Deterministic(d, Buffer.from('sample')).toString('hex').toUpperCase();
  const want =
    'EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716' +
    'F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8';
  if (sig !== want) throw new Error('RFC 6979 self-test failed');
}

/** Signs `data` with a test key: Ed25519 (deterministic by design) or deterministic ES256. */
export function signWith(key, data) {
  if (key.alg === 'EdDSA') return new Uint8Array(sign(null, data, key.privateKey));
  const d = Buffer.from(key.privateKey.export({ format: 'jwk' }).d, 'base64url');
  const sig = signEs256Deterministic(d, data);
  const ok = verify('sha256', data, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
  if (!ok) throw new Error('deterministic ES256 signature does not verify');
  return new Uint8Array(sig);
}

/** Concatenates byte arrays. */
export function concat(...parts) {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

/**
 * A CBOR map written pair by pair, so that a key may repeat (RFC 8949 section 5.6 calls such a
 * map invalid; the verifier must refuse it). Fewer than 24 pairs.
 */
export function mapWithPairs(pairs) {
  return concat(
    [0xa0 + pairs.length],
    ...pairs.flatMap(([k, v]) => [encodeCbor(k), encodeCbor(v)]),
  );
}

/** A byte string header plus content (major type 2), for embedding hand-built bytes. */
export function bstr(bytes) {
  return encodeCbor(new Uint8Array(bytes));
}

/**
 * Builds a COSE_Sign1 (RFC 9052 section 4.2) from parts. `protectedBytes` is used exactly as
 * given, and the signature covers those bytes unless `signedProtected` says otherwise.
 */
export function buildSign1({
  key,
  protectedBytes,
  unprotected = new Map(),
  payload,
  tagged = true,
  signedProtected = protectedBytes,
  signedPayload = payload,
  signature,
}) {
  const sig = signature ?? signWith(key, sigStructure(signedProtected, signedPayload));
  const message = [protectedBytes, unprotected, payload, sig];
  return encodeCbor(tagged ? new Tag(18, message) : message);
}

/** The QR text of a COSE message: `RP1:` + base45 (RFC 9285). */
export function qrText(bytes) {
  return `RP1:${encodeBase45(bytes)}`;
}

/** A copy of `bytes` with one bit of the byte at `index` flipped. */
export function flipBit(bytes, index) {
  const copy = Uint8Array.from(bytes);
  copy[index] ^= 0x01;
  return copy;
}

/** Index of the first occurrence of `needle` in `hay`. */
export function indexOf(hay, needle) {
  const at = Buffer.from(hay).indexOf(Buffer.from(needle));
  if (at < 0) throw new Error('byte pattern not found');
  return at;
}

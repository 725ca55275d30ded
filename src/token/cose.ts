import { type KeyObject, sign, verify } from 'node:crypto';
import { Tag } from 'cbor2';
import { RidergateError } from '../errors.js';
import { decodeCbor, encodeCbor } from './cbor.js';
import { failed, type Parsed, parsed } from './result.js';
import type { TokenAlg } from './types.js';

/** CBOR tag of a COSE_Sign1 message (RFC 9052 section 4.2). */
export const COSE_SIGN1_TAG = 18;

/** COSE header labels (RFC 9052 section 3.1). */
const HEADER_ALG = 1;
const HEADER_CRIT = 2;
const HEADER_KID = 4;

/** COSE algorithm ids (RFC 9053 sections 2.1 and 2.2). */
const ALG_IDS: Record<TokenAlg, number> = { EdDSA: -8, ES256: -7 };

/** A parsed COSE_Sign1 message. The signature is not checked yet. */
export interface CoseSign1 {
  /** The protected header bucket exactly as received; the signature covers these bytes. */
  protectedBytes: Uint8Array;
  alg: TokenAlg;
  /** kid from the protected header, else from the unprotected one. */
  kid: Uint8Array | undefined;
  payload: Uint8Array;
  signature: Uint8Array;
  tagged: boolean;
}

/**
 * Parses a COSE_Sign1 message, tagged (18) or untagged (RFC 9052 section 4.2).
 * alg must be in the protected header and be EdDSA (-8) or ES256 (-7). Never throws.
 */
export function parseSign1(bytes: Uint8Array): Parsed<CoseSign1> {
  const item = decodeCbor(bytes);
  if (!item.ok) return item;
  let value = item.value;
  const tagged = value instanceof Tag;
  if (value instanceof Tag) {
    if (value.tag !== COSE_SIGN1_TAG) return failed('CBOR tag is not COSE_Sign1 (18)');
    value = value.contents;
  }
  if (!Array.isArray(value) || value.length !== 4) {
    return failed('COSE_Sign1 is not an array of four items');
  }
  const [protectedBytes, unprotected, payload, signature] = value as unknown[];
  if (!(protectedBytes instanceof Uint8Array))
    return failed('protected header is not a byte string');
  if (!(unprotected instanceof Map)) return failed('unprotected header is not a map');
  if (!(payload instanceof Uint8Array)) return failed('payload is not a byte string');
  if (!(signature instanceof Uint8Array)) return failed('signature is not a byte string');
  const headers = parseHeaders(protectedBytes, unprotected);
  if (!headers.ok) return headers;
  return parsed({ protectedBytes, ...headers.value, payload, signature, tagged });
}

/** Reads alg and kid from the two header buckets; kid in the protected one wins. */
function parseHeaders(
  protectedBytes: Uint8Array,
  unprotected: Map<unknown, unknown>,
): Parsed<{ alg: TokenAlg; kid: Uint8Array | undefined }> {
  let prot: Map<unknown, unknown> = new Map();
  // RFC 9052 section 3: a zero-length byte string stands for an empty protected map.
  if (protectedBytes.length > 0) {
    const decoded = decodeCbor(protectedBytes);
    if (!decoded.ok) return failed('protected header is not well-formed CBOR');
    if (!(decoded.value instanceof Map)) return failed('protected header is not a map');
    prot = decoded.value;
  }
  // RFC 9052 section 3.1: crit names parameters a verifier must understand; RP1 defines none.
  if (prot.has(HEADER_CRIT) || unprotected.has(HEADER_CRIT)) {
    return failed('critical header parameters are not supported');
  }
  const algId = prot.get(HEADER_ALG);
  if (algId === undefined) return failed('protected header has no alg');
  const alg = algFromId(algId);
  if (alg === undefined) return failed('alg is not EdDSA (-8) or ES256 (-7)');
  const kid = prot.has(HEADER_KID) ? prot.get(HEADER_KID) : unprotected.get(HEADER_KID);
  if (kid !== undefined && !(kid instanceof Uint8Array)) return failed('kid is not a byte string');
  return parsed({ alg, kid });
}

function algFromId(id: unknown): TokenAlg | undefined {
  if (id === ALG_IDS.EdDSA) return 'EdDSA';
  if (id === ALG_IDS.ES256) return 'ES256';
  return undefined;
}

/**
 * The bytes that are signed: Sig_structure = ["Signature1", protected, external_aad, payload]
 * (RFC 9052 section 4.4), with an empty external_aad.
 */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  // Written byte by byte rather than through the CBOR encoder: this runs for every scan, and
  // its layout is fixed (RFC 8949 preferred serialisation of a 4-array, a text and byte strings).
  return Buffer.concat([
    SIG_STRUCTURE_HEAD,
    byteStringHead(protectedBytes.length),
    protectedBytes,
    EMPTY_BYTE_STRING,
    byteStringHead(payload.length),
    payload,
  ]);
}

/** 0x84 (array of 4), then "Signature1" as a text string of 10 bytes (0x6a). */
const SIG_STRUCTURE_HEAD = Buffer.from([0x84, 0x6a, ...Buffer.from('Signature1', 'ascii')]);
/** external_aad: an empty byte string. */
const EMPTY_BYTE_STRING = Buffer.from([0x40]);

/** The CBOR head of a byte string of `length` bytes (major type 2, RFC 8949 section 3.1). */
function byteStringHead(length: number): Buffer {
  if (length < 24) return Buffer.from([0x40 | length]);
  if (length < 0x100) return Buffer.from([0x58, length]);
  if (length < 0x10000) return Buffer.from([0x59, length >> 8, length & 0xff]);
  const head = Buffer.alloc(5);
  head[0] = 0x5a;
  head.writeUInt32BE(length, 1);
  return head;
}

/**
 * Checks the signature of a parsed COSE_Sign1 with `key`. False on a bad signature and also
 * when the key does not fit the algorithm. Never throws.
 */
export function verifySign1(msg: CoseSign1, key: KeyObject): boolean {
  if (!keyFitsAlg(key, msg.alg)) return false;
  const data = sigStructure(msg.protectedBytes, msg.payload);
  try {
    if (msg.alg === 'EdDSA') return verify(null, data, key, msg.signature);
    // RFC 9053 section 2.1: an ES256 signature is r || s, 32 bytes each, not DER.
    if (msg.signature.length !== 64) return false;
    return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, msg.signature);
  } catch {
    return false;
  }
}

/** True when `key` is usable with `alg`: an EdDSA curve for EdDSA, P-256 for ES256. */
export function keyFitsAlg(key: KeyObject, alg: TokenAlg): boolean {
  const type = key.asymmetricKeyType;
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** How a COSE_Sign1 is laid out when signing. */
export interface Sign1Input {
  payload: Uint8Array;
  privateKey: KeyObject;
  alg: TokenAlg;
  kid?: Uint8Array;
  /** Where kid goes. Default `protected`. */
  kidHeader?: 'protected' | 'unprotected';
  /** Wrap in CBOR tag 18. Default true. */
  tagged?: boolean;
}

/**
 * Signs `payload` into a COSE_Sign1 message (RFC 9052 section 4.4).
 * @throws RidergateError `token_invalid` when the private key does not fit `alg`.
 */
export function signSign1(input: Sign1Input): Uint8Array {
  if (!keyFitsAlg(input.privateKey, input.alg)) {
    throw new RidergateError(
      'token_invalid',
      `the private key (${input.privateKey.asymmetricKeyType ?? 'unknown type'}) does not fit alg ${input.alg}`,
    );
  }
  const prot = new Map<number, unknown>([[HEADER_ALG, ALG_IDS[input.alg]]]);
  const unprot = new Map<number, unknown>();
  if (input.kid !== undefined) {
    (input.kidHeader === 'unprotected' ? unprot : prot).set(HEADER_KID, input.kid);
  }
  const protectedBytes = encodeCbor(prot);
  const data = sigStructure(protectedBytes, input.payload);
  const signature =
    input.alg === 'EdDSA'
      ? sign(null, data, input.privateKey)
      : sign('sha256', data, { key: input.privateKey, dsaEncoding: 'ieee-p1363' });
  const message = [protectedBytes, unprot, input.payload, new Uint8Array(signature)];
  return encodeCbor(input.tagged === false ? message : new Tag(COSE_SIGN1_TAG, message));
}

import { type KeyObject, randomBytes } from 'node:crypto';
import { RidergateError } from '../errors.js';
import { encodeBase45 } from './base45.js';
import { encodeCbor } from './cbor.js';
import { buildClaimsMap } from './claims.js';
import { signSign1 } from './cose.js';
import type { TokenAlg } from './types.js';
import { MAX_TOKEN_CHARS, TOKEN_PREFIX } from './verify.js';

/**
 * Length of a generated cti, bytes. 64 random bits are ample: a cti only has to be unique
 * among one issuer's tokens alive at the same time (minutes, see the 300 s default maximum
 * lifetime). The chance of any two colliding is about n²/2^65: under one in a million even
 * with five million tokens alive at once, and a clash only makes the second token be denied
 * as `replayed` at a gate that saw the first. Every byte counts toward the QR target of
 * version 8 at level M (DESIGN.md "The rider token").
 */
export const CTI_BYTES = 8;

/** What `issueToken` needs. Times are seconds since the epoch. */
export interface IssueInput {
  privateKey: KeyObject;
  /** The kid as text; its UTF-8 bytes go into the protected header. */
  kid: string;
  alg: TokenAlg;
  claims: {
    iss: string;
    /** Text, or bytes for a binary rider id (the gate shows bytes as hex). */
    sub: string | Uint8Array;
    exp: number;
    iat: number;
    nbf?: number;
    /** Token id; CTI_BYTES (8) random bytes when absent. */
    cti?: Uint8Array;
    sites?: string[];
  };
  /**
   * Wrap the COSE_Sign1 in CBOR tag 18. Default false: the tag is optional in RP1 (the `RP1:`
   * prefix already says what follows) and leaving it out saves one byte of the QR budget.
   */
  tagged?: boolean;
}

/**
 * Issues an RP1 rider token: the CWT claims signed as a COSE_Sign1, base45, `RP1:` prefix.
 * A token for tests that must fail the signature check is simply signed with another key.
 * @returns the QR text and the token id (cti) as lowercase hex.
 * @throws RidergateError `token_invalid` when a claim is wrong, the key does not fit `alg`,
 * or the text would exceed MAX_TOKEN_CHARS.
 */
export function issueToken(input: IssueInput): { text: string; cti: string } {
  if (input.kid.length === 0)
    throw new RidergateError('token_invalid', 'cannot issue token: kid is empty');
  const cti = input.claims.cti ?? new Uint8Array(randomBytes(CTI_BYTES));
  const payload = encodeCbor(buildClaimsMap({ ...input.claims, cti }));
  const message = signSign1({
    payload,
    privateKey: input.privateKey,
    alg: input.alg,
    kid: new TextEncoder().encode(input.kid),
    tagged: input.tagged ?? false,
  });
  const text = TOKEN_PREFIX + encodeBase45(message);
  if (text.length > MAX_TOKEN_CHARS) {
    throw new RidergateError(
      'token_invalid',
      `cannot issue token: it is ${text.length} characters, the limit is ${MAX_TOKEN_CHARS}; shorten sub, sites or kid`,
    );
  }
  return { text, cti: Buffer.from(cti).toString('hex') };
}

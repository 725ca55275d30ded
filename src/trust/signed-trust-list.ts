import type { KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import { RidergateError } from '../errors.js';
import type { LoadedKey } from '../token/keys.js';
import { buildTrustList, MAX_TRUST_LIST_BYTES, type TrustList } from './trust-list.js';

/** The JWS `typ` of a trust list, so a signed command can never pass for one (RFC 8725 §3.11). */
export const TRUST_JWS_TYPE = 'ridergate-trust+jws';

/** Algorithms the fleet root key may sign with. */
const ROOT_ALGORITHMS = ['EdDSA', 'ES256'];

/** base64url of 1 MiB of JSON is under 1.4 MiB; a longer text is refused before parsing. */
const MAX_JWS_CHARS = Math.ceil((MAX_TRUST_LIST_BYTES * 4) / 3) + 4096;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A trust list that came as a JWS verified with the fleet root key. */
export interface SignedTrustList extends TrustList {
  /** The compact JWS exactly as received, kept in the store. */
  jws: string;
}

/**
 * Signs a trust list document with the fleet root key, after validating it as a gate would.
 * @returns the compact JWS (header `typ: ridergate-trust+jws`, `kid` of the root key).
 * @throws RidergateError `trust_invalid` listing every problem in the document.
 */
export async function signTrustList(
  doc: unknown,
  root: LoadedKey,
  source = 'trust list',
): Promise<string> {
  buildTrustList(doc, source);
  const payload = new TextEncoder().encode(JSON.stringify(doc));
  return new CompactSign(payload)
    .setProtectedHeader({ alg: root.alg, kid: root.kid, typ: TRUST_JWS_TYPE })
    .sign(root.key);
}

/** True when `text` has the shape of a compact JWS (three base64url parts). */
export function looksLikeJws(text: string): boolean {
  return text.length <= MAX_JWS_CHARS && COMPACT_JWS.test(text.trim());
}

/**
 * Verifies a compact JWS trust list with the fleet root public key and builds the list.
 * @param source names the list in errors (a file path, `store`, an MQTT topic).
 * @throws RidergateError `trust_invalid` for a malformed JWS, a bad signature, a wrong `typ`
 * or an invalid document, naming which.
 */
export async function verifyTrustList(
  text: string,
  rootKey: KeyObject,
  source: string,
): Promise<SignedTrustList> {
  const jws = text.trim();
  if (!looksLikeJws(jws)) {
    throw new RidergateError(
      'trust_invalid',
      `${source}: not a compact JWS (expected three base64url parts separated by dots, at most ${MAX_JWS_CHARS} characters)`,
    );
  }
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(jws).typ;
  } catch (err) {
    throw new RidergateError(
      'trust_invalid',
      `${source}: the JWS header is not valid base64url JSON`,
      { cause: err },
    );
  }
  if (typ !== TRUST_JWS_TYPE) {
    throw new RidergateError(
      'trust_invalid',
      `${source}: the JWS typ is ${JSON.stringify(typ)}, expected "${TRUST_JWS_TYPE}": this is not a trust list`,
    );
  }
  let payload: Uint8Array;
  try {
    payload = (await compactVerify(jws, rootKey, { algorithms: ROOT_ALGORITHMS })).payload;
  } catch (err) {
    throw new RidergateError(
      'trust_invalid',
      `${source}: the signature does not verify with the fleet root key; re-sign the list with "ridergate trust sign"`,
      { cause: err },
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new RidergateError('trust_invalid', `${source}: the signed payload is not JSON`, {
      cause: err,
    });
  }
  return { ...buildTrustList(doc, source), jws };
}

import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSign1, sigStructure, verifySign1 } from '../../../src/token/cose.js';

/** The IETF COSE WG public examples (cose-wg/Examples), shared by the project. */
const VECTORS = '/work/shared/vectors/cose-wg';

interface Vector {
  input: { sign0: { key: Record<string, string> } };
  intermediates: { ToBeSign_hex: string };
  output: { cbor: string };
}

function load(name: string): Vector {
  return JSON.parse(readFileSync(`${VECTORS}/${name}.json`, 'utf8')) as Vector;
}

const b64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

/** The example's public key; the examples give coordinates in base64url or as `_hex`. */
function publicKeyOf(v: Vector): KeyObject {
  const k = v.input.sign0.key;
  const coord = (name: string) => k[name] ?? b64u(k[`${name}_hex`] ?? '');
  const jwk =
    k.kty === 'OKP'
      ? { kty: 'OKP', crv: k.crv, x: coord('x') }
      : { kty: 'EC', crv: k.crv, x: coord('x'), y: coord('y') };
  return createPublicKey({ key: jwk, format: 'jwk' });
}

function flipped(bytes: Uint8Array, index: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe.each([
  ['eddsa-examples_eddsa-sig-01', 'EdDSA'],
  ['eddsa-examples_eddsa-sig-02', 'EdDSA'],
  ['ecdsa-examples_ecdsa-sig-01', 'ES256'],
  ['CWT_A_3', 'ES256'],
])('COSE WG example %s', (name, alg) => {
  const vector = load(name);
  const key = publicKeyOf(vector);
  const bytes = Uint8Array.from(Buffer.from(vector.output.cbor, 'hex'));
  const parsed = parseSign1(bytes);
  if (!parsed.ok) throw new Error(`example did not parse: ${parsed.detail}`);
  const msg = parsed.value;

  it('parses as a tagged COSE_Sign1 with the expected alg', () => {
    expect(msg.tagged).toBe(true);
    expect(msg.alg).toBe(alg);
  });

  it('builds the same Sig_structure as the example', () => {
    const toBeSigned = Buffer.from(sigStructure(msg.protectedBytes, msg.payload)).toString('hex');
    expect(toBeSigned).toBe(vector.intermediates.ToBeSign_hex.toLowerCase());
  });

  it('verifies with the example key', () => {
    expect(verifySign1(msg, key)).toBe(true);
  });

  it('fails after one byte of the signature changes', () => {
    expect(verifySign1({ ...msg, signature: flipped(msg.signature, 5) }, key)).toBe(false);
  });

  it('fails after one byte of the payload changes', () => {
    expect(verifySign1({ ...msg, payload: flipped(msg.payload, 3) }, key)).toBe(false);
  });

  it('fails after one byte of the protected header changes', () => {
    const last = msg.protectedBytes.length - 1;
    expect(verifySign1({ ...msg, protectedBytes: flipped(msg.protectedBytes, last) }, key)).toBe(
      false,
    );
  });
});

describe('COSE WG examples, kid', () => {
  it('reads kid "11" (h\'3131\') from the unprotected header of eddsa-sig-01', () => {
    const bytes = Buffer.from(load('eddsa-examples_eddsa-sig-01').output.cbor, 'hex');
    const parsed = parseSign1(bytes);
    expect(parsed.ok && Buffer.from(parsed.value.kid ?? []).toString('utf8')).toBe('11');
  });
});

describe('verifySign1', () => {
  it('rejects an ES256 signature that is not exactly 64 bytes', () => {
    const v = load('ecdsa-examples_ecdsa-sig-01');
    const parsed = parseSign1(Buffer.from(v.output.cbor, 'hex'));
    if (!parsed.ok) throw new Error(parsed.detail);
    const longer = new Uint8Array([...parsed.value.signature, 0]);
    expect(verifySign1({ ...parsed.value, signature: longer }, publicKeyOf(v))).toBe(false);
  });

  it('rejects a key that does not fit the alg', () => {
    const ed = load('eddsa-examples_eddsa-sig-01');
    const es = load('ecdsa-examples_ecdsa-sig-01');
    const parsed = parseSign1(Buffer.from(ed.output.cbor, 'hex'));
    if (!parsed.ok) throw new Error(parsed.detail);
    expect(verifySign1(parsed.value, publicKeyOf(es))).toBe(false);
  });
});

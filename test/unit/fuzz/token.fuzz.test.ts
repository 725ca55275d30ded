import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase45, encodeBase45 } from '../../../src/token/base45.js';
import { decodeCbor, encodeCbor } from '../../../src/token/cbor.js';
import { parseSign1, sigStructure } from '../../../src/token/cose.js';
import { issueToken } from '../../../src/token/issue.js';
import type { VerifyResult } from '../../../src/token/types.js';
import { TOKEN_PREFIX, verifyToken } from '../../../src/token/verify.js';
import { freshClaims, optsFor, testKey, trustOf } from '../token/support.js';

const ed = testKey('EdDSA');
const es = testKey('ES256');
const trust = trustOf([{ iss: 'demo-eats', keys: [ed, es] }]);
const opts = optsFor(trust);
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

function issue(key: typeof ed, tagged: boolean, sites?: string[]): string {
  const claims = sites === undefined ? freshClaims() : { ...freshClaims(), sites };
  return issueToken({ privateKey: key.privateKey, kid: key.kid, alg: key.alg, claims, tagged })
    .text;
}

/** Valid tokens of both algorithms, tagged and not: every one is admitted as issued. */
const TOKENS = [
  issue(ed, false),
  issue(ed, true, ['site-a', 'site-b']),
  issue(es, false),
  issue(es, true),
];

/** The signed bytes (Sig_structure) and signature of a token's text, when it parses. */
function signedPartOf(text: string): { signed: string; signature: string } | undefined {
  if (!text.startsWith(TOKEN_PREFIX)) return undefined;
  const bytes = decodeBase45(text.slice(TOKEN_PREFIX.length));
  if (!bytes.ok) return undefined;
  const msg = parseSign1(bytes.value);
  if (!msg.ok) return undefined;
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  return {
    signed: hex(sigStructure(msg.value.protectedBytes, msg.value.payload)),
    signature: hex(msg.value.signature),
  };
}

/** verifyToken must not throw, and must answer in the VerifyResult shape. */
function verifyNeverThrows(text: string): VerifyResult {
  const result = verifyToken(text, opts);
  if (!result.ok) {
    expect(typeof result.reason).toBe('string');
    // detail is for logs: it never quotes the token (checked on a stretch long enough to tell).
    const body = text.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + 40);
    if (body.trim().length >= 12) expect(result.detail).not.toContain(body);
  }
  return result;
}

/** An admitted mutation must carry exactly the signed bytes of the token it came from. */
function expectAdmitOnlyIfSignedBytesIntact(original: string, mutated: string): void {
  const result = verifyNeverThrows(mutated);
  if (!result.ok) return;
  expect(signedPartOf(mutated)?.signed).toBe(signedPartOf(original)?.signed);
}

type Edit = { op: 'flip' | 'insert' | 'delete' | 'replace'; at: number; value: number };
const edits = fc.array(
  fc.record({
    op: fc.constantFrom('flip', 'insert', 'delete', 'replace'),
    at: fc.nat(),
    value: fc.nat({ max: 255 }),
  }) as fc.Arbitrary<Edit>,
  { minLength: 1, maxLength: 4 },
);

function editBytes(bytes: Uint8Array, list: Edit[]): Uint8Array {
  const out = [...bytes];
  for (const { op, at, value } of list) {
    const i = out.length === 0 ? 0 : at % (out.length + (op === 'insert' ? 1 : 0));
    if (op === 'insert') out.splice(i, 0, value);
    else if (out.length === 0) continue;
    else if (op === 'delete') out.splice(i, 1);
    else if (op === 'flip') out[i] = (out[i] ?? 0) ^ (1 << (value % 8));
    else out[i] = value;
  }
  return new Uint8Array(out);
}

function editText(text: string, list: Edit[]): string {
  let out = text;
  for (const { op, at, value } of list) {
    const i = at % (out.length + 1);
    const char = ALPHABET[value % ALPHABET.length] ?? '0';
    if (op === 'insert') out = out.slice(0, i) + char + out.slice(i);
    else if (op === 'delete') out = out.slice(0, i) + out.slice(i + 1);
    else out = out.slice(0, i) + char + out.slice(i + 1);
  }
  return out;
}

describe('verifyToken on arbitrary input (property)', () => {
  it('the valid tokens used below are admitted as issued', () => {
    for (const text of TOKENS) expect(verifyToken(text, opts).ok).toBe(true);
  });

  it('never throws and never admits arbitrary text, with or without the prefix', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }).map((s) => TOKEN_PREFIX + s),
      fc
        .array(fc.constantFrom(...ALPHABET), { maxLength: 400 })
        .map((c) => TOKEN_PREFIX + c.join('')),
      fc.string({ maxLength: 2000 }).map((s) => TOKEN_PREFIX + s),
    );
    fc.assert(
      fc.property(text, (t) => {
        expect(verifyNeverThrows(t).ok).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws and never admits arbitrary bytes or CBOR values as base45 tokens', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.anything().map((v) => {
        try {
          return encodeCbor(v);
        } catch {
          return new Uint8Array();
        }
      }),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        expect(verifyNeverThrows(TOKEN_PREFIX + encodeBase45(b)).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('verifyToken on mutated valid tokens (property)', () => {
  const token = fc.constantFrom(...TOKENS);

  it('edits of the base45 text: never throws, admits only if the signed bytes are intact', () => {
    fc.assert(
      fc.property(token, edits, (original, list) => {
        const body = editText(original.slice(TOKEN_PREFIX.length), list);
        expectAdmitOnlyIfSignedBytesIntact(original, TOKEN_PREFIX + body);
      }),
      { numRuns: 3000 },
    );
  });

  it('edits of the COSE bytes before re-encoding: never throws, admits only if intact', () => {
    fc.assert(
      fc.property(token, edits, (original, list) => {
        const bytes = decodeBase45(original.slice(TOKEN_PREFIX.length));
        if (!bytes.ok) throw new Error('the fixture token does not decode');
        const mutated = TOKEN_PREFIX + encodeBase45(editBytes(bytes.value, list));
        expectAdmitOnlyIfSignedBytesIntact(original, mutated);
      }),
      { numRuns: 3000 },
    );
  });

  it('any change to the claims, re-encoded with the old signature, is denied', () => {
    const change = fc.tuple(
      fc.constantFrom(1, 2, 4, 5, 6, 7, -70001, 99),
      fc.oneof(
        fc.maxSafeNat(),
        fc.string({ minLength: 1, maxLength: 10 }),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
      ),
    );
    fc.assert(
      fc.property(token, change, (original, [claim, value]) => {
        const msg = parseSign1(decodeBase45Ok(original.slice(TOKEN_PREFIX.length)));
        if (!msg.ok) throw new Error('the fixture token does not parse');
        const claims = decodeCbor(msg.value.payload);
        if (!claims.ok || !(claims.value instanceof Map)) throw new Error('no claims map');
        const changed = new Map(claims.value);
        changed.set(claim, value);
        const payload = encodeCbor(changed);
        fc.pre(Buffer.compare(Buffer.from(payload), Buffer.from(msg.value.payload)) !== 0);
        const cose = encodeCbor([
          msg.value.protectedBytes,
          new Map(),
          payload,
          msg.value.signature,
        ]);
        const result = verifyNeverThrows(TOKEN_PREFIX + encodeBase45(cose));
        expect(result.ok).toBe(false);
        // A change that breaks the claims' types is malformed, one of iss or of the time claims
        // may leave no trusted key, and every other change fails the signature.
        if (!result.ok)
          expect(['malformed', 'unknown_key', 'bad_signature']).toContain(result.reason);
        if (!result.ok && claim !== 1 && typeof value !== 'string') {
          expect(['malformed', 'bad_signature']).toContain(result.reason);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

function decodeBase45Ok(text: string): Uint8Array {
  const bytes = decodeBase45(text);
  if (!bytes.ok) throw new Error('the fixture token does not decode');
  return bytes.value;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRidergateError } from '../../../src/errors.js';
import {
  readDoc,
  signRevocationDoc,
  verifyRevocationDoc,
} from '../../../src/revocation/revocation-doc.js';
import { generateKeyPair } from '../../../src/token/keys.js';
import type { OperatorKey } from '../../../src/trust/operators.js';

// Revocation lists reach the gate over MQTT: whatever a broker client publishes, the gate
// answers with a document or revocation_invalid, never anything else.
const pair = generateKeyPair('EdDSA');
const key: OperatorKey = {
  kid: 'ops-1',
  alg: 'EdDSA',
  publicKey: pair.publicKey,
  uses: new Set(['revocations']),
};
const ctx = { operator: () => key, nowSec: 1_800_000_000, skewSec: 30, maxBytes: 64 * 1024 };
const signed = await signRevocationDoc(
  { kind: 'snapshot', seq: 1, issuedAt: 1, entries: [{ iss: 'eats', sub: 'r1' }] },
  { key: pair.privateKey, kid: 'ops-1', alg: 'EdDSA' },
);
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

async function docOrInvalid(run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!isRidergateError(err, 'revocation_invalid'))
      throw new Error(`unexpected error: ${String(err)}`, { cause: err });
  }
}

describe('revocation documents (property)', () => {
  it('the signed snapshot used below verifies', async () => {
    expect((await verifyRevocationDoc(signed, ctx)).kind).toBe('snapshot');
  });

  it('arbitrary text and JWS-shaped text: a document or revocation_invalid', async () => {
    const part = fc.array(fc.constantFrom(...B64URL), { maxLength: 80 }).map((c) => c.join(''));
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.tuple(part, part, part).map((p) => p.join('.')),
      fc.nat({ max: signed.length - 1 }).map((i) => signed.slice(0, i) + signed.slice(i + 1)),
    );
    await fc.assert(
      fc.asyncProperty(text, (t) => docOrInvalid(() => verifyRevocationDoc(t, ctx))),
      { numRuns: 1000 },
    );
  });

  it('any JSON value as the signed payload: a document or revocation_invalid', async () => {
    const entry = fc.record(
      {
        iss: fc.oneof(fc.string(), fc.integer()),
        sub: fc.oneof(fc.string(), fc.constant(undefined)),
        cti: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdefAB') }), fc.string()),
        until: fc.oneof(fc.integer(), fc.double(), fc.string()),
      },
      { requiredKeys: [] },
    );
    const doc = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          kind: fc.constantFrom('snapshot', 'delta', 'other'),
          seq: fc.oneof(fc.integer(), fc.double(), fc.string()),
          issuedAt: fc.oneof(fc.nat(), fc.string()),
          entries: fc.oneof(fc.array(entry, { maxLength: 5 }), fc.jsonValue()),
          add: fc.array(entry, { maxLength: 3 }),
          remove: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(doc, (d) => docOrInvalid(() => readDoc(d))),
      { numRuns: 2000 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRidergateError } from '../../../src/errors.js';
import { generateKeyPair } from '../../../src/token/keys.js';
import { signTrustList, verifyTrustList } from '../../../src/trust/signed-trust-list.js';

// The trust list is the one structured input that reaches the gate over MQTT (ridergate/v1/
// fleet/trust): whatever a broker client publishes, the gate must answer trust_invalid or a list.
const root = { ...generateKeyPair('EdDSA'), kid: 'root-1', alg: 'EdDSA' as const };
const issuer = generateKeyPair('EdDSA');
const doc = {
  version: 3,
  issuers: [
    {
      iss: 'eats',
      keys: [{ kid: 'k1', alg: 'EdDSA', jwk: issuer.publicKey.export({ format: 'jwk' }) }],
    },
  ],
};
const signed = await signTrustList(doc, { key: root.privateKey, kid: root.kid, alg: root.alg });
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

async function expectListOrTrustInvalid(text: string): Promise<boolean> {
  try {
    await verifyTrustList(text, root.publicKey, 'fuzz');
    return true;
  } catch (err) {
    if (!isRidergateError(err, 'trust_invalid'))
      throw new Error(`unexpected error: ${String(err)}`, { cause: err });
    return false;
  }
}

describe('verifyTrustList (property)', () => {
  it('the signed list used below verifies', async () => {
    expect(await expectListOrTrustInvalid(signed)).toBe(true);
  });

  it('arbitrary text and JWS-shaped text: a list or trust_invalid, never anything else', async () => {
    const part = fc.array(fc.constantFrom(...B64URL), { maxLength: 80 }).map((c) => c.join(''));
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.tuple(part, part, part).map((p) => p.join('.')),
      fc.jsonValue().map((v) => {
        const b64 = (x: unknown) => Buffer.from(JSON.stringify(x) ?? '').toString('base64url');
        return `${b64({ alg: 'EdDSA', typ: 'ridergate-trust+jws' })}.${b64(v)}.${signed.split('.')[2]}`;
      }),
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        expect(await expectListOrTrustInvalid(t)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('a signed list with characters changed is refused unless the signed part is unchanged', async () => {
    const edit = fc.tuple(fc.nat(), fc.constantFrom(...B64URL, '.', '=', ' '));
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), async (edits) => {
        let t = signed;
        for (const [at, c] of edits) {
          const i = at % t.length;
          t = t.slice(0, i) + c + t.slice(i + 1);
        }
        const accepted = await expectListOrTrustInvalid(t);
        // The last base64url character of an Ed25519 signature carries 4 padding bits, so a
        // few edits there decode to the same signature; nothing else may verify.
        if (accepted) {
          const [h, p, s] = t.trim().split('.');
          const [h0, p0, s0] = signed.split('.');
          expect([h, p]).toEqual([h0, p0]);
          expect(Buffer.from(s ?? '', 'base64url')).toEqual(Buffer.from(s0 ?? '', 'base64url'));
        }
      }),
      { numRuns: 500 },
    );
  });
});

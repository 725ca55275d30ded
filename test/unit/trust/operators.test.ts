import { describe, expect, it } from 'vitest';
import { isRidergateError } from '../../../src/errors.js';
import { generateKeyPair } from '../../../src/token/keys.js';
import { operatorKeyValid } from '../../../src/trust/operators.js';
import { buildTrustList } from '../../../src/trust/trust-list.js';

const issuerJwk = generateKeyPair('EdDSA').publicKey.export({ format: 'jwk' });
const opsPair = generateKeyPair('ES256');
const opsJwk = opsPair.publicKey.export({ format: 'jwk' });
const base = {
  version: 1,
  issuers: [{ iss: 'eats', keys: [{ kid: 'k1', alg: 'EdDSA', jwk: issuerJwk }] }],
};

function problems(doc: unknown): string {
  try {
    buildTrustList(doc, 'test');
  } catch (err) {
    if (isRidergateError(err, 'trust_invalid')) return err.message;
    throw err;
  }
  return '';
}

describe('trust list operators section', () => {
  it('is optional; an entry gives an operations key by kid, with both uses by default', () => {
    expect(buildTrustList(base).operators.size).toBe(0);
    const list = buildTrustList({
      ...base,
      operators: [
        { kid: 'ops-1', alg: 'ES256', jwk: opsJwk },
        {
          kid: 'ops-2',
          alg: 'ES256',
          jwk: opsJwk,
          uses: ['revocations'],
          notAfter: '2030-01-01T00:00:00Z',
        },
      ],
    });
    const ops1 = list.operators.get('ops-1');
    expect(ops1 && [...ops1.uses]).toEqual(['commands', 'revocations']);
    const ops2 = list.operators.get('ops-2');
    expect(ops2?.notAfterSec).toBe(Date.parse('2030-01-01T00:00:00Z') / 1000);
    if (ops2 === undefined) throw new Error('ops-2 missing');
    expect(operatorKeyValid(ops2, 'commands', 1_800_000_000, 30)).toBe(false);
    expect(operatorKeyValid(ops2, 'revocations', 1_800_000_000, 30)).toBe(true);
    expect(operatorKeyValid(ops2, 'revocations', 1_900_000_000, 30)).toBe(false);
  });

  it('reports every problem of the section at once, naming the field', () => {
    const text = problems({
      ...base,
      operators: [
        { kid: 'ops-1', alg: 'EdDSA', jwk: opsJwk },
        { kid: 'ops-2', alg: 'ES256', jwk: opsPair.privateKey.export({ format: 'jwk' }) },
        { kid: 'ops-3', alg: 'ES256', jwk: opsJwk, notBefore: 2000, notAfter: 1000 },
        { kid: 'ops-3', alg: 'ES256', jwk: opsJwk },
      ],
    });
    expect(text).toContain('operators[0].jwk: does not fit alg EdDSA');
    expect(text).toContain('operators[1].jwk: holds a private key');
    expect(text).toContain('operators[2].notAfter: must be later than notBefore');
    expect(text).toContain('operators[3].kid: "ops-3" appears twice');
    expect(
      problems({ ...base, operators: [{ kid: 'x', alg: 'ES256', jwk: opsJwk, uses: ['open'] }] }),
    ).toContain('operators[0].uses[0]');
  });
});

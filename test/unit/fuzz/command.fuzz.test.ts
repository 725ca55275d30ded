import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/command/parse-command.js';
import { signCommand } from '../../../src/command/sign-command.js';
import { generateKeyPair } from '../../../src/token/keys.js';
import type { OperatorKey } from '../../../src/trust/operators.js';

// A command topic is open to whoever may publish on the broker: whatever arrives, the gate
// answers with a verified command or a refusal carrying one of the documented codes, and
// never throws.
const pair = generateKeyPair('EdDSA');
const key: OperatorKey = {
  kid: 'ops-1',
  alg: 'EdDSA',
  publicKey: pair.publicKey,
  uses: new Set(['commands']),
};
const ctx = { site: 'north', gate: 'g1', nowSec: 1_800_000_000, skewSec: 30, operator: () => key };
const CODES = [
  'malformed',
  'unknown_key',
  'bad_signature',
  'wrong_target',
  'expired',
  'not_yet_valid',
  'too_large',
];
const valid = await signCommand(
  { cmd: 'open', site: 'north', gate: 'g1', iatSec: ctx.nowSec, jti: 'fuzz-0001' },
  { key: pair.privateKey, kid: 'ops-1', alg: 'EdDSA' },
);
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64 = (x: unknown) => Buffer.from(JSON.stringify(x) ?? '').toString('base64url');

async function expectAnswer(input: Buffer | string): Promise<void> {
  const out = await parseCommand(input, ctx);
  if (!out.ok) {
    expect(CODES).toContain(out.error);
    expect(typeof out.detail).toBe('string');
  }
}

describe('parseCommand (property)', () => {
  it('the signed command used below is accepted', async () => {
    expect((await parseCommand(valid.jws, ctx)).ok).toBe(true);
  });

  it('arbitrary bytes, JWS-shaped text and signed-looking payloads: an answer, never a throw', async () => {
    const part = fc.array(fc.constantFrom(...B64URL), { maxLength: 80 }).map((c) => c.join(''));
    const header = fc.record({
      alg: fc.constantFrom('EdDSA', 'ES256', 'none', 'HS256'),
      kid: fc.oneof(fc.constant('ops-1'), fc.string()),
      typ: fc.constantFrom('ridergate-cmd+jws', 'JWT', 'ridergate-trust+jws'),
    });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.tuple(part, part, part).map((p) => p.join('.')),
      fc
        .tuple(header, fc.jsonValue())
        .map(([h, v]) => `${b64(h)}.${b64(v)}.${valid.jws.split('.')[2]}`),
      fc
        .nat({ max: valid.jws.length - 1 })
        .map((i) => valid.jws.slice(0, i) + valid.jws.slice(i + 1)),
    );
    await fc.assert(fc.asyncProperty(input, expectAnswer), { numRuns: 1500 });
  });
});

import { CompactSign } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/command/parse-command.js';
import { type CommandToSign, signCommand } from '../../../src/command/sign-command.js';
import { generateKeyPair, type LoadedKey } from '../../../src/token/keys.js';
import type { OperatorKey } from '../../../src/trust/operators.js';

const NOW = 1_800_000_000;
const pair = generateKeyPair('EdDSA');
const ops: LoadedKey = { key: pair.privateKey, kid: 'ops-1', alg: 'EdDSA' };
const operatorKey: OperatorKey = {
  kid: 'ops-1',
  alg: 'EdDSA',
  publicKey: pair.publicKey,
  uses: new Set(['commands', 'revocations']),
};
const ctx = {
  site: 'north',
  gate: 'g1',
  nowSec: NOW,
  skewSec: 30,
  operator: (kid: string) => (kid === 'ops-1' ? operatorKey : undefined),
};

async function sign(over: Partial<CommandToSign> = {}, key: LoadedKey = ops): Promise<string> {
  const cmd: CommandToSign = {
    cmd: 'open',
    site: 'north',
    gate: 'g1',
    iatSec: NOW,
    jti: 'jti-0001',
    ...over,
  };
  return (await signCommand(cmd, key)).jws;
}

async function signRaw(header: Record<string, unknown>, payload: unknown): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA', ...header })
    .sign(pair.privateKey);
}

describe('parseCommand', () => {
  it('accepts a command signed by an operations key, for this gate', async () => {
    const out = await parseCommand(await sign({ args: { reason: 'phone died' } }), ctx);
    expect(out).toMatchObject({
      ok: true,
      command: {
        jti: 'jti-0001',
        site: 'north',
        gate: 'g1',
        kid: 'ops-1',
        args: { cmd: 'open', reason: 'phone died' },
      },
    });
  });

  it('accepts a site-wide command (no gate)', async () => {
    const out = await parseCommand(await sign({ gate: undefined }), ctx);
    expect(out.ok).toBe(true);
  });

  it.each([
    ['another site', { site: 'south' }],
    ['another gate', { gate: 'g2' }],
  ])('refuses a command for %s with wrong_target', async (_, over) => {
    expect(await parseCommand(await sign(over), ctx)).toMatchObject({
      ok: false,
      id: 'jti-0001',
      error: 'wrong_target',
    });
  });

  it('refuses an expired command, and one issued in the future', async () => {
    expect(await parseCommand(await sign({ iatSec: NOW - 200, ttlSec: 60 }), ctx)).toMatchObject({
      error: 'expired',
    });
    expect(await parseCommand(await sign({ iatSec: NOW + 120 }), ctx)).toMatchObject({
      error: 'not_yet_valid',
    });
    // Inside the skew both pass.
    expect((await parseCommand(await sign({ iatSec: NOW - 80, ttlSec: 60 }), ctx)).ok).toBe(true);
  });

  it('refuses a command signed by another key with bad_signature, an unknown kid with unknown_key', async () => {
    const other = generateKeyPair('EdDSA');
    const forged = await sign({}, { key: other.privateKey, kid: 'ops-1', alg: 'EdDSA' });
    expect(await parseCommand(forged, ctx)).toMatchObject({
      ok: false,
      id: 'jti-0001',
      error: 'bad_signature',
    });
    const unknown = await sign({}, { key: other.privateKey, kid: 'ops-9', alg: 'EdDSA' });
    expect(await parseCommand(unknown, ctx)).toMatchObject({ error: 'unknown_key' });
  });

  it('refuses an alg that is not the key’s and a key not allowed to sign commands', async () => {
    const es = await parseCommand(await sign(), {
      ...ctx,
      operator: () => ({ ...operatorKey, alg: 'ES256' }),
    });
    expect(es).toMatchObject({ error: 'bad_signature' });
    const revOnly = await parseCommand(await sign(), {
      ...ctx,
      operator: () => ({ ...operatorKey, uses: new Set(['revocations'] as const) }),
    });
    expect(revOnly).toMatchObject({ error: 'unknown_key' });
    const retired = await parseCommand(await sign(), {
      ...ctx,
      operator: () => ({ ...operatorKey, notAfterSec: NOW - 3600 }),
    });
    expect(retired).toMatchObject({ error: 'unknown_key' });
  });

  it('refuses another typ (a trust list or revocation list is no command)', async () => {
    const payload = { cmd: 'open', site: 'north', iat: NOW, exp: NOW + 60, jti: 'jti-0002' };
    const out = await parseCommand(
      await signRaw({ kid: 'ops-1', typ: 'ridergate-trust+jws' }, payload),
      ctx,
    );
    expect(out).toMatchObject({ ok: false, error: 'malformed' });
    const ok = await parseCommand(
      await signRaw({ kid: 'ops-1', typ: 'ridergate-cmd+jws' }, payload),
      ctx,
    );
    expect(ok.ok).toBe(true);
  });

  it('refuses malformed payloads and arguments with malformed, naming the field', async () => {
    const head = { kid: 'ops-1', typ: 'ridergate-cmd+jws' };
    const base = { cmd: 'open', site: 'north', iat: NOW, exp: NOW + 60, jti: 'jti-0003' };
    const cases: [unknown, string][] = [
      [{ ...base, cmd: 'explode' }, 'cmd'],
      [{ ...base, jti: 'short' }, 'jti'],
      [{ ...base, exp: NOW + 7200 }, 'exp'],
      [{ ...base, extra: 1 }, 'additional'],
      [{ ...base, cmd: 'maintenance', args: {} }, 'on'],
      [{ ...base, cmd: 'revoke', args: { iss: 'eats', sub: 'r', cti: 'aa' } }, 'not both'],
      [{ ...base, cmd: 'revoke', args: { iss: 'eats', cti: 'xyz' } }, 'args.cti: must be hex'],
      [{ ...base, cmd: 'revoke', args: { iss: 'x', cti: 'abc' } }, 'hex in whole bytes'],
      [{ ...base, cmd: 'unrevoke', args: { iss: 'x' } }, 'must have sub (a rider) or cti'],
      [{ ...base, cmd: 'revoke', args: { iss: 'x', cti: 'abcd', sub2: 1 } }, 'additional'],
      [{ ...base, cmd: 'revoke', args: { sub: 'r' } }, "required property 'iss'"],
    ];
    for (const [payload, word] of cases) {
      const out = await parseCommand(await signRaw(head, payload), ctx);
      expect(out.ok).toBe(false);
      if (!out.ok) {
        expect(out.error).toBe('malformed');
        expect(out.detail).toContain(word);
      }
    }
  });

  it('refuses a payload over the size limit with too_large, and text that is no JWS with malformed', async () => {
    expect(await parseCommand('x'.repeat(9000), ctx)).toMatchObject({
      id: null,
      error: 'too_large',
    });
    expect(await parseCommand('hello', ctx)).toMatchObject({ id: null, error: 'malformed' });
  });

  it('reads revoke arguments into an entry (cti in lowercase)', async () => {
    const out = await parseCommand(
      await sign({ cmd: 'revoke', args: { iss: 'eats', cti: 'ABCD', until: NOW + 10 } }),
      ctx,
    );
    expect(out).toMatchObject({
      ok: true,
      command: {
        args: {
          cmd: 'revoke',
          entry: { iss: 'eats', kind: 'cti', value: 'abcd', untilSec: NOW + 10 },
        },
      },
    });
  });
});

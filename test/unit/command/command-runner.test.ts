import { describe, expect, it } from 'vitest';
import { CommandRunner } from '../../../src/command/command-runner.js';
import type { CommandResult } from '../../../src/command/command-types.js';
import { signCommand } from '../../../src/command/sign-command.js';
import { silentLogger } from '../../../src/log.js';
import { generateKeyPair } from '../../../src/token/keys.js';

const pair = generateKeyPair('EdDSA');
const ops = { key: pair.privateKey, kid: 'ops-1', alg: 'EdDSA' as const };
const meta = { topic: 'ridergate/v1/north/g1/cmd', retain: false };

function setup(
  take: (jti: string) => Promise<boolean> = async () => true,
  held: (topic: string, payload: Buffer) => Promise<boolean> = async () => false,
) {
  const results: CommandResult[] = [];
  const opens: string[] = [];
  const seen = new Set<string>();
  const runner = new CommandRunner({
    site: 'north',
    gate: 'g1',
    skewSec: 30,
    operator: (kid) =>
      kid === 'ops-1'
        ? { kid, alg: 'EdDSA', publicKey: pair.publicKey, uses: new Set(['commands']) }
        : undefined,
    ids: {
      take: async (jti) => {
        if (!(await take(jti))) throw new Error('disk I/O error');
        if (seen.has(jti)) return false;
        seen.add(jti);
        return true;
      },
    },
    actions: {
      open: async (_reason, detail) => {
        opens.push(detail);
        return 'opened';
      },
      revoke: async () => 'r',
      unrevoke: async () => 'u',
      maintenance: async () => 'm',
      reload: async () => 'l',
      selftest: async () => ({ ok: false, detail: 'scanner: FAIL disconnected' }),
    },
    heldRetained: held,
    publishResult: async (r) => {
      results.push(r);
    },
    nowMs: () => Date.now(),
    log: silentLogger(),
  });
  return { runner, results, opens };
}

describe('CommandRunner', () => {
  it('refuses a retained command and burns its jti, so a live copy does not run either', async () => {
    const { runner, results, opens } = setup();
    const { jws, jti } = await signCommand({ cmd: 'open', site: 'north', gate: 'g1' }, ops);
    await runner.handle(Buffer.from(jws), { ...meta, retain: true });
    await runner.handle(Buffer.from(jws), meta);
    expect(results.map((r) => [r.id, r.error])).toEqual([
      [jti, 'retained'],
      [jti, 'replayed_command'],
    ]);
    expect(opens).toEqual([]);
  });

  it('refuses a live command the broker holds retained, and one it cannot check, never running either', async () => {
    const asked: string[] = [];
    let answer: () => Promise<boolean> = async () => true;
    const { runner, results, opens } = setup(undefined, (topic) => {
      asked.push(topic);
      return answer();
    });
    const held = await signCommand({ cmd: 'open', site: 'north', gate: 'g1' }, ops);
    await runner.handle(Buffer.from(held.jws), meta);
    answer = async () => {
      throw new Error('the connection was lost before the broker answered');
    };
    const lost = await signCommand({ cmd: 'open', site: 'north', gate: 'g1' }, ops);
    await runner.handle(Buffer.from(lost.jws), meta);
    answer = async () => false;
    const live = await signCommand({ cmd: 'open', site: 'north', gate: 'g1' }, ops);
    await runner.handle(Buffer.from(live.jws), meta);
    // A copy of the one run, and a command for another gate: no question to the broker.
    await runner.handle(Buffer.from(live.jws), meta);
    const other = await signCommand({ cmd: 'open', site: 'north', gate: 'g2' }, ops);
    await runner.handle(Buffer.from(other.jws), meta);

    expect(results.map((r) => [r.id, r.ok, r.error])).toEqual([
      [held.jti, false, 'retained'],
      [lost.jti, false, 'failed'],
      [live.jti, true, undefined],
      [live.jti, false, 'replayed_command'],
      [other.jti, false, 'wrong_target'],
    ]);
    expect(results[1]?.detail).toContain('connection was lost');
    expect(opens).toEqual([`command ${live.jti}`]);
    expect(asked).toEqual([meta.topic, meta.topic, meta.topic]);
  });

  it('refuses a command whose jti cannot be recorded (fail closed) and answers too_large', async () => {
    const { runner, results, opens } = setup(async () => false);
    const { jws } = await signCommand({ cmd: 'open', site: 'north' }, ops);
    await runner.handle(Buffer.from(jws), meta);
    await runner.tooLarge(10_000, meta.topic);
    expect(results.map((r) => r.error)).toEqual(['failed', 'too_large']);
    expect(results[0]?.detail).toContain('disk I/O error');
    expect(opens).toEqual([]);
  });

  it('answers a failing selftest with ok false and its checks; ignores an empty message', async () => {
    const { runner, results } = setup();
    const { jws } = await signCommand({ cmd: 'selftest', site: 'north' }, ops);
    await runner.handle(Buffer.from(jws), meta);
    await runner.handle(Buffer.alloc(0), meta);
    expect(results).toEqual([
      expect.objectContaining({
        ok: false,
        cmd: 'selftest',
        error: 'failed',
        detail: 'scanner: FAIL disconnected',
      }),
    ]);
  });
});

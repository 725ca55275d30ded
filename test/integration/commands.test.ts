import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CommandToSign, signCommand } from '../../src/command/sign-command.js';
import { generateKeyPair } from '../../src/token/keys.js';
import { cliPath } from '../helpers/daemon.js';
import { makeTestGate, type TestGate } from '../helpers/gate-app.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { type ProvisionedOps, provisionWithOperators } from '../helpers/operators.js';
import { connectOps, type OpsClient } from '../helpers/ops-client.js';
import { waitUntil } from '../helpers/pty.js';

const GATE_CMD = 'ridergate/v1/north/g1/cmd';
const SITE_CMD = 'ridergate/v1/north/_site/cmd';

describe.skipIf(mosquittoMissing() !== undefined)('signed commands over a real mosquitto', () => {
  let dir: string;
  let broker: Mosquitto;
  let ops: OpsClient;
  let provisioned: ProvisionedOps;
  let gate: TestGate | undefined;
  let n = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-commands-'));
    broker = await startMosquitto();
    provisioned = await provisionWithOperators(dir);
    ops = await connectOps(broker.url);
  });

  afterEach(async () => {
    await gate?.app.stop();
    gate = undefined;
    // Every result and event a gate published matches its schema under schemas/.
    expect(ops.invalid).toEqual([]);
  });

  afterAll(async () => {
    await ops?.end();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a gate on its own store and waits until it has subscribed (info published). */
  async function startGate(db = `gate-${++n}.db`): Promise<TestGate> {
    const g = makeTestGate(dir, provisioned, { brokerUrl: broker.url, dbPath: join(dir, db) });
    await g.app.start();
    await waitUntil(() => g.app.link?.isConnected() === true, 'gate connected', {
      timeoutMs: 15_000,
    });
    gate = g;
    await waitSubscribed();
    return g;
  }

  /**
   * The subscription request follows the CONNACK: publishes selftest probes until the gate
   * answers one, so the gate's subscriptions are in place.
   */
  async function waitSubscribed(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const probe = await sign({ cmd: 'selftest' });
      await ops.publish(GATE_CMD, probe.jws);
      try {
        await waitUntil(() => ops.results.some((r) => r.id === probe.jti), 'probe', {
          timeoutMs: 1_000,
        });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
  }

  async function sign(over: Partial<CommandToSign> = {}): Promise<{ jws: string; jti: string }> {
    return signCommand({ cmd: 'open', site: 'north', gate: 'g1', ...over }, provisioned.ops);
  }

  async function send(topic: string, over: Partial<CommandToSign> = {}, retain = false) {
    const { jws, jti } = await sign(over);
    await ops.publish(topic, jws, retain);
    return ops.resultFor(jti);
  }

  const pulses = (g: TestGate) => g.relay.changes.filter((c) => c.active).length;

  it('open: journals remote_open, pulses the relay, answers ok', async () => {
    const g = await startGate();
    const result = await send(GATE_CMD, { args: { reason: 'phone died' } });
    expect(result).toMatchObject({ ok: true, cmd: 'open' });
    expect(pulses(g)).toBe(1);
    await waitUntil(() => ops.events.some((e) => e.type === 'remote_open'), 'remote_open event');
    expect(ops.events.find((e) => e.type === 'remote_open')).toMatchObject({
      reason: 'phone died',
      detail: `command ${result.id}`,
    });
  });

  it('a site-wide command reaches the gate', async () => {
    const g = await startGate();
    const result = await send(SITE_CMD, { gate: undefined });
    expect(result).toMatchObject({ ok: true, cmd: 'open' });
    expect(pulses(g)).toBe(1);
  });

  it('refuses a bad signature, a wrong target, an expired command and a replayed jti, never pulsing', async () => {
    const g = await startGate();
    const other = generateKeyPair('EdDSA');
    const forged = await signCommand(
      { cmd: 'open', site: 'north', gate: 'g1' },
      { key: other.privateKey, kid: 'ops-1', alg: 'EdDSA' },
    );
    await ops.publish(GATE_CMD, forged.jws);
    expect(await ops.resultFor(forged.jti)).toMatchObject({ ok: false, error: 'bad_signature' });
    expect(await send(GATE_CMD, { gate: 'g2' })).toMatchObject({
      ok: false,
      error: 'wrong_target',
    });
    expect(await send(SITE_CMD, { site: 'south', gate: undefined })).toMatchObject({
      ok: false,
      error: 'wrong_target',
    });
    const old = Math.floor(Date.now() / 1000) - 600;
    expect(await send(GATE_CMD, { iatSec: old, ttlSec: 60 })).toMatchObject({ error: 'expired' });
    expect(pulses(g)).toBe(0);

    const once = await sign();
    await ops.publish(GATE_CMD, once.jws);
    await waitUntil(
      () => ops.results.filter((r) => r.id === once.jti).length === 1,
      'first result',
    );
    await ops.publish(SITE_CMD, once.jws);
    await waitUntil(
      () => ops.results.filter((r) => r.id === once.jti).length === 2,
      'second result',
    );
    const [first, second] = ops.results.filter((r) => r.id === once.jti);
    expect(first).toMatchObject({ ok: true });
    expect(second).toMatchObject({ ok: false, error: 'replayed_command' });
    expect(pulses(g)).toBe(1);
  });

  it('a garbage payload gets a malformed result with a null id', async () => {
    await startGate();
    const before = ops.results.filter((r) => r.id === null).length;
    await ops.publish(GATE_CMD, 'not a command');
    await waitUntil(() => ops.results.filter((r) => r.id === null).length > before, 'result');
    expect(ops.results.filter((r) => r.id === null).at(-1)).toMatchObject({
      ok: false,
      error: 'malformed',
    });
  });

  it('a payload over 8 KiB is answered too_large and never read', async () => {
    const g = await startGate();
    const before = ops.results.filter((r) => r.error === 'too_large').length;
    await ops.publish(GATE_CMD, 'x'.repeat(9_000));
    await waitUntil(
      () => ops.results.filter((r) => r.error === 'too_large').length > before,
      'too_large result',
    );
    expect(ops.results.filter((r) => r.error === 'too_large').at(-1)).toMatchObject({
      id: null,
      ok: false,
    });
    expect(pulses(g)).toBe(0);
  });

  it('maintenance denies every scan with reason maintenance, also after a restart, until switched off', async () => {
    let g = await startGate('maintenance.db');
    expect(await send(GATE_CMD, { cmd: 'maintenance', args: { on: true } })).toMatchObject({
      ok: true,
    });
    expect(await g.scan(g.token())).toMatchObject({ type: 'deny', reason: 'maintenance' });
    await g.app.stop();
    gate = undefined;

    g = await startGate('maintenance.db');
    expect(await g.scan(g.token('rider-2'))).toMatchObject({ type: 'deny', reason: 'maintenance' });
    expect(await send(GATE_CMD, { cmd: 'maintenance', args: { on: false } })).toMatchObject({
      ok: true,
    });
    expect(await g.scan(g.token('rider-3'))).toMatchObject({ type: 'admit' });
  });

  it('revoke then scanning that rider is denied revoked; unrevoke admits again', async () => {
    const g = await startGate();
    const revoke = await send(GATE_CMD, { cmd: 'revoke', args: { iss: 'eats', sub: 'bad-rider' } });
    expect(revoke).toMatchObject({ ok: true, cmd: 'revoke' });
    expect(await g.scan(g.token('bad-rider'))).toMatchObject({ type: 'deny', reason: 'revoked' });
    expect(await g.scan(g.token('good-rider'))).toMatchObject({ type: 'admit' });
    await send(GATE_CMD, { cmd: 'unrevoke', args: { iss: 'eats', sub: 'bad-rider' } });
    expect(await g.scan(g.token('bad-rider'))).toMatchObject({ type: 'admit' });
  });

  it('reload re-reads the trust list and the stored revocation list', async () => {
    await startGate();
    const result = await send(SITE_CMD, { cmd: 'reload', gate: undefined });
    expect(result).toMatchObject({ ok: true, cmd: 'reload' });
    expect(result.detail).toContain('trust list version 1');
  });

  it('selftest answers with its checks and moves nothing', async () => {
    const g = await startGate();
    const result = await send(GATE_CMD, { cmd: 'selftest' });
    expect(result.detail).toContain('store: readable');
    expect(result.detail).toContain('trust: version 1');
    expect(pulses(g)).toBe(0);
  });

  it('M2: a signed open published with retain before the gate connects never pulses, across reconnect and restart', async () => {
    const retained = await sign({ ttlSec: 600 });
    await ops.publish(GATE_CMD, retained.jws, true);
    try {
      let g = await startGate('m2.db');
      await waitUntil(() => ops.results.some((r) => r.id === retained.jti), 'retained refused');
      expect(ops.results.find((r) => r.id === retained.jti)).toMatchObject({
        ok: false,
        error: 'retained',
      });

      // A reconnect: another client takes the gate's client id, so the broker drops the gate.
      const connects = g.app.link?.stats().connects ?? 0;
      const thief = await connectOps(broker.url, 'north-g1');
      await thief.end();
      await waitUntil(
        () => (g.app.link?.stats().connects ?? 0) > connects && g.app.link?.isConnected() === true,
        'gate reconnected',
        { timeoutMs: 20_000 },
      );
      await waitUntil(
        () => ops.results.filter((r) => r.id === retained.jti).length >= 2,
        'refused again',
        { timeoutMs: 15_000 },
      );

      // A restart of the gate on the same store.
      await g.app.stop();
      gate = undefined;
      g = await startGate('m2.db');
      await waitUntil(
        () => ops.results.filter((r) => r.id === retained.jti).length >= 3,
        'refused after restart',
        { timeoutMs: 15_000 },
      );
      expect(
        ops.results.filter((r) => r.id === retained.jti).every((r) => r.error === 'retained'),
      ).toBe(true);
      expect(pulses(g)).toBe(0);
    } finally {
      await ops.publish(GATE_CMD, '', true);
    }
  });

  it('M2: a signed open published with retain while the gate is connected is refused retained, once, and never pulses', async () => {
    const g = await startGate();
    // The broker hands it to the connected gate without the retain flag (MQTT 3.1.1 §3.3.1.3).
    const retained = await sign({ ttlSec: 600 });
    try {
      await ops.publish(GATE_CMD, retained.jws, true);
      expect(await ops.resultFor(retained.jti)).toMatchObject({
        ok: false,
        cmd: 'open',
        error: 'retained',
      });
      // A normal open after it still works, and takes less than a few seconds.
      const started = Date.now();
      const live = await send(GATE_CMD, { args: { reason: 'live' } });
      const latencyMs = Date.now() - started;
      expect(live).toMatchObject({ ok: true, cmd: 'open' });
      console.log(`live open answered in ${latencyMs} ms`);
      const opened = (id: string | null) =>
        ops.events.filter((e) => e.type === 'remote_open' && e.detail === `command ${id}`);
      await waitUntil(() => opened(live.id).length > 0, 'remote_open of the live open');
      // The retained copy the check asked for got no second answer; only the live open ran.
      expect(ops.results.filter((r) => r.id === retained.jti)).toHaveLength(1);
      expect(opened(retained.jti)).toEqual([]);
      expect(opened(live.id)).toEqual([expect.objectContaining({ reason: 'live' })]);
      expect(pulses(g)).toBe(1);

      // At a restart the broker's retained copy arrives flagged: refused again, never run.
      await g.app.stop();
      gate = undefined;
      const again = await startGate();
      await waitUntil(
        () => ops.results.filter((r) => r.id === retained.jti).length >= 2,
        'refused after restart',
        { timeoutMs: 15_000 },
      );
      expect(ops.results.filter((r) => r.id === retained.jti).map((r) => r.error)).toEqual([
        'retained',
        'retained',
      ]);
      expect(pulses(again)).toBe(0);
    } finally {
      await ops.publish(GATE_CMD, '', true);
    }
  });

  it('a retained command for another gate on the site topic is refused once; live site-wide commands still run', async () => {
    const forG2 = await sign({ gate: 'g2', ttlSec: 600 });
    await ops.publish(SITE_CMD, forG2.jws, true);
    try {
      const g = await startGate();
      await waitUntil(() => ops.results.some((r) => r.id === forG2.jti), 'g2 command refused');
      const first = await send(SITE_CMD, { gate: undefined });
      const second = await send(SITE_CMD, { gate: undefined });
      expect([first, second]).toEqual([
        expect.objectContaining({ ok: true, cmd: 'open' }),
        expect.objectContaining({ ok: true, cmd: 'open' }),
      ]);
      expect(pulses(g)).toBe(2);
      // Its copies re-sent for the checks were taken by them, not answered again.
      expect(ops.results.filter((r) => r.id === forG2.jti)).toEqual([
        expect.objectContaining({ ok: false, error: 'wrong_target' }),
      ]);
    } finally {
      await ops.publish(SITE_CMD, '', true);
    }
  });

  it('ridergate cmd sign --publish sends a command and prints its result, exit 0', async () => {
    const g = await startGate();
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [
      cliPath(),
      ...['cmd', 'sign', '--key', provisioned.opsFile, '--cmd', 'open', '--site', 'north'],
      ...[
        '--gate',
        'g1',
        '--args',
        '{"reason":"cli"}',
        '--publish',
        '--url',
        broker.url,
        '--wait',
        '30',
      ],
    ]);
    expect(JSON.parse(stdout.trim())).toMatchObject({ ok: true, cmd: 'open' });
    expect(pulses(g)).toBe(1);

    const refused = await run(process.execPath, [
      cliPath(),
      ...['cmd', 'sign', '--key', provisioned.opsFile, '--cmd', 'open', '--site', 'north'],
      ...['--gate', 'g9', '--publish', '--url', broker.url, '--wait', '2'],
    ]).catch((err: { code: number; stdout: string; stderr: string }) => err);
    expect(refused).toMatchObject({ code: 1 });
    expect(pulses(g)).toBe(1);

    // Arguments the gate would refuse are refused before signing, in plain words.
    const badCti = await run(process.execPath, [
      cliPath(),
      ...['cmd', 'sign', '--key', provisioned.opsFile, '--cmd', 'revoke', '--site', 'north'],
      ...['--args', '{"iss":"x","cti":"abc"}'],
    ]).catch((err: { code: number; stdout: string; stderr: string }) => err);
    expect(badCti).toMatchObject({ code: 2, stdout: '' });
    expect((badCti as { stderr: string }).stderr).toContain('args.cti: must be hex in whole bytes');

    // A target no gate can have is refused before anything is signed or sent.
    const results = ops.results.length;
    for (const target of [
      ['--site', 'North', '--gate', 'g1'],
      ['--site', 'north', '--gate', ''],
    ]) {
      const bad = await run(process.execPath, [
        cliPath(),
        ...['cmd', 'sign', '--key', provisioned.opsFile, '--cmd', 'open', ...target],
        ...['--publish', '--url', broker.url, '--wait', '2'],
      ]).catch((err: { code: number; stdout: string; stderr: string }) => err);
      expect(bad).toMatchObject({ code: 2, stdout: '' });
      expect((bad as { stderr: string }).stderr).toMatch(
        /^ridergate: --(site|gate) "\w*": expected/,
      );
    }
    expect(ops.results).toHaveLength(results);
    expect(pulses(g)).toBe(1);
  });
});

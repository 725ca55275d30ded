import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { CommandIds } from '../../src/command/command-ids.js';
import { CommandRunner } from '../../src/command/command-runner.js';
import { type CommandResult, MAX_COMMAND_BYTES } from '../../src/command/command-types.js';
import { signCommand } from '../../src/command/sign-command.js';
import { MqttLink } from '../../src/link/mqtt-link.js';
import { silentLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { generateKeyPair } from '../../src/token/keys.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { connectOps, type OpsClient } from '../helpers/ops-client.js';
import { waitUntil } from '../helpers/pty.js';

const CMD = 'ridergate/v1/north/g1/cmd';

// Field case M2 while the gate is connected: the broker hands a retained publication to a
// connected subscriber without the retain flag, so the gate asks the broker (re-subscribe)
// before running a live command. Built from the link and the runner directly, with a long
// wait for the retained copy, so the connection can be cut while a check is waiting.
describe.skipIf(mosquittoMissing() !== undefined)('M2: the retained check of live commands', () => {
  let dir: string;
  let broker: Mosquitto;
  let store: SqliteStore;
  let link: MqttLink;
  let ops: OpsClient;
  const opens: string[] = [];
  /** jti recorded by the runner: the retained check follows at once. */
  const taken: string[] = [];
  /** Every answer the runner gave, also those it could not publish. */
  const answers: CommandResult[] = [];
  const pair = generateKeyPair('EdDSA');
  const key = { key: pair.privateKey, kid: 'ops-1', alg: 'EdDSA' as const };
  const sign = () => signCommand({ cmd: 'open', site: 'north', gate: 'g1', ttlSec: 600 }, key);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-m2-'));
    broker = await startMosquitto();
    store = new SqliteStore(join(dir, 'gate.db'), silentLogger());
    await store.open();
    const clock = systemClock();
    const ids = new CommandIds(store, 30);
    const runner = new CommandRunner({
      site: 'north',
      gate: 'g1',
      skewSec: 30,
      operator: (kid) =>
        kid === 'ops-1'
          ? { kid, alg: 'EdDSA', publicKey: pair.publicKey, uses: new Set(['commands']) }
          : undefined,
      ids: {
        take: async (jti, expSec, nowSec) => {
          const fresh = await ids.take(jti, expSec, nowSec);
          taken.push(jti);
          return fresh;
        },
      },
      actions: {
        open: async (_reason, detail) => {
          opens.push(detail);
          return 'opened';
        },
        revoke: async () => '',
        unrevoke: async () => '',
        maintenance: async () => '',
        reload: async () => '',
        selftest: async () => ({ ok: true, detail: 'ok' }),
      },
      heldRetained: (topic, payload) => link.heldRetained(topic, payload),
      publishResult: (r) => link.publish(`${CMD}/result`, JSON.stringify(r), { qos: 1 }),
      nowMs: () => clock.nowMs(),
      log: silentLogger(),
    });
    link = new MqttLink(
      {
        url: broker.url,
        prefix: 'ridergate/v1',
        site: 'north',
        gate: 'g1',
        telemetrySec: 3600,
        version: 'test',
        bootMs: clock.nowMs(),
        reconnectMinMs: 100,
        reconnectMaxMs: 400,
        retainedWaitMs: 3_000,
      },
      {
        store,
        clock,
        telemetry: () => ({}),
        subscriptions: [
          {
            topic: CMD,
            maxBytes: MAX_COMMAND_BYTES,
            handle: async (p, m) => {
              const r = await runner.handle(p, m);
              if (r !== undefined) answers.push(r);
            },
          },
        ],
      },
      silentLogger(),
    );
    await link.start();
    ops = await connectOps(broker.url);
    await waitUntil(() => link.isConnected(), 'connected', { timeoutMs: 15_000 });
    // The subscription follows the CONNACK: probe until a command is answered.
    for (let answered = false; !answered; ) {
      const probe = await signCommand({ cmd: 'selftest', site: 'north' }, key);
      await ops.publish(CMD, probe.jws);
      answered = await waitUntil(() => answers.some((r) => r.id === probe.jti), 'probe', {
        timeoutMs: 5_000,
      }).then(
        () => true,
        () => false,
      );
    }
  });

  afterAll(async () => {
    await ops?.publish(CMD, '', true);
    await link?.stop();
    await ops?.end();
    await store?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a retained open and a live open sent together: the retained one is refused, the live one runs, each answered once', async () => {
    const retained = await sign();
    const live = await sign();
    await ops.publish(CMD, retained.jws, true);
    await ops.publish(CMD, live.jws);
    await waitUntil(
      () => [retained.jti, live.jti].every((id) => ops.results.some((r) => r.id === id)),
      'both answered',
      { timeoutMs: 20_000 },
    );
    // A selftest after them: a stray copy of either would have been handled by then.
    const after = await signCommand({ cmd: 'selftest', site: 'north' }, key);
    await ops.publish(CMD, after.jws);
    await ops.resultFor(after.jti, 20_000);
    expect(ops.results.filter((r) => r.id === retained.jti)).toEqual([
      expect.objectContaining({ ok: false, error: 'retained' }),
    ]);
    expect(ops.results.filter((r) => r.id === live.jti)).toEqual([
      expect.objectContaining({ ok: true, cmd: 'open' }),
    ]);
    expect(opens).toEqual([`command ${live.jti}`]);
    await ops.publish(CMD, '', true);
  }, 60_000);

  it('a connection lost during the check: the command is refused failed and never runs; the next one runs', async () => {
    const cut = await sign();
    const connects = link.stats().connects;
    await ops.publish(CMD, cut.jws);
    // Wait until the check is under way (the jti is recorded before it), then cut the gate off:
    // another client takes its client id.
    await waitUntil(() => taken.includes(cut.jti), 'check under way');
    const thief = await connectOps(broker.url, 'north-g1');
    await thief.end();
    await waitUntil(() => answers.some((r) => r.id === cut.jti), 'refused', {
      timeoutMs: 20_000,
    });
    expect(answers.find((r) => r.id === cut.jti)).toMatchObject({ ok: false, error: 'failed' });
    expect(answers.find((r) => r.id === cut.jti)?.detail).toContain('connection was lost');
    await waitUntil(
      () => link.stats().connects > connects && link.isConnected(),
      'gate reconnected',
      { timeoutMs: 20_000 },
    );

    let next: { jws: string; jti: string } | undefined;
    // The subscription follows the new CONNACK: send opens until one is answered.
    for (let answered = false; !answered; ) {
      next = await sign();
      await ops.publish(CMD, next.jws);
      const jti = next.jti;
      answered = await waitUntil(() => answers.some((r) => r.id === jti), 'open', {
        timeoutMs: 8_000,
      }).then(
        () => true,
        () => false,
      );
    }
    expect(answers.find((r) => r.id === next?.jti)).toMatchObject({ ok: true, cmd: 'open' });
    expect(opens).not.toContain(`command ${cut.jti}`);
    expect(opens.at(-1)).toBe(`command ${next?.jti}`);
  }, 90_000);
});

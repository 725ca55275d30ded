import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GateController } from '../../../src/gate/gate-controller.js';
import { SimRelay } from '../../../src/gpio/sim-relay.js';
import { silentLogger } from '../../../src/log.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { issueToken } from '../../../src/token/issue.js';
import { NOW_SEC, type TestKey, testKey, trustOf } from '../token/support.js';

const SITE = 'site-a';

describe('the gate with maintenance, the revocation index and remote open', () => {
  let dir: string;
  let store: SqliteStore;
  let relay: SimRelay;
  let key: TestKey;
  let maintenance: boolean;
  let indexAnswer: boolean | undefined;
  let gate: GateController;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-remote-'));
    store = new SqliteStore(join(dir, 'gate.db'), silentLogger());
    await store.open();
    relay = new SimRelay(silentLogger());
    await relay.init();
    key = testKey('EdDSA');
    maintenance = false;
    indexAnswer = undefined;
    gate = new GateController(
      { site: SITE, gate: 'gate-1', skewSec: 30, reopenGraceSec: 20, pulseMs: 60 },
      {
        relay,
        store,
        clock: {
          nowMs: () => NOW_SEC * 1000,
          monoMs: () => performance.now(),
          state: () => 'synced',
        },
        trust: trustOf([{ iss: 'demo-eats', keys: [key] }]),
        notifyOutbox: () => undefined,
        log: silentLogger(),
        inMaintenance: () => maintenance,
        revocations: { isRevoked: () => indexAnswer },
      },
    );
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const token = (sub: string) =>
    issueToken({
      privateKey: key.privateKey,
      kid: key.kid,
      alg: 'EdDSA',
      claims: { iss: 'demo-eats', sub, iat: NOW_SEC - 5, exp: NOW_SEC + 115, sites: [SITE] },
    }).text;
  const scan = async (sub: string) =>
    (await gate.handleScan({ text: token(sub), receivedMono: performance.now(), source: 'test' }))
      ?.event;
  const pulses = () => relay.changes.filter((c) => c.active).length;

  it('in maintenance denies every scan with reason maintenance and never pulses', async () => {
    maintenance = true;
    expect(await scan('r1')).toMatchObject({ type: 'deny', reason: 'maintenance' });
    expect(pulses()).toBe(0);
    maintenance = false;
    expect(await scan('r1')).toMatchObject({ type: 'admit' });
  });

  it('asks the revocation index, and the store while the index is still loading', async () => {
    indexAnswer = true;
    expect(await scan('r1')).toMatchObject({ type: 'deny', reason: 'revoked' });
    indexAnswer = undefined;
    await store.revoke({ iss: 'demo-eats', kind: 'sub', value: 'r2' });
    expect(await scan('r2')).toMatchObject({ type: 'deny', reason: 'revoked' });
    indexAnswer = false;
    expect(await scan('r2')).toMatchObject({ type: 'admit' });
  });

  it('remote open journals remote_open with its detail, then pulses', async () => {
    const { event, pulse } = await gate.remoteOpen({ reason: 'phone died', detail: 'command abc' });
    expect(event).toMatchObject({
      type: 'remote_open',
      reason: 'phone died',
      detail: 'command abc',
    });
    expect(pulse).toBeDefined();
    expect(pulses()).toBe(1);
    expect((await store.undelivered(10)).map((e) => e.type)).toEqual(['remote_open']);
  });
});

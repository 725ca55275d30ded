import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRevocationDoc } from '../../src/revocation/revocation-doc.js';
import { cliPath } from '../helpers/daemon.js';
import { makeTestGate, type TestGate } from '../helpers/gate-app.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { type ProvisionedOps, provisionWithOperators } from '../helpers/operators.js';
import { connectOps, type OpsClient } from '../helpers/ops-client.js';
import { waitUntil } from '../helpers/pty.js';

const SNAPSHOT = 'ridergate/v1/_fleet/revocations/snapshot';
const DELTA = 'ridergate/v1/_fleet/revocations/delta';

describe.skipIf(mosquittoMissing() !== undefined)('revocation lists over a real mosquitto', () => {
  let dir: string;
  let broker: Mosquitto;
  let ops: OpsClient;
  let provisioned: ProvisionedOps;
  let gate: TestGate;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-revocations-it-'));
    broker = await startMosquitto();
    provisioned = await provisionWithOperators(dir);
    ops = await connectOps(broker.url);
  });

  afterAll(async () => {
    expect(ops.invalid).toEqual([]);
    await gate?.app.stop();
    await ops?.end();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const now = () => Math.floor(Date.now() / 1000);
  const status = () => gate.app.fleetOps?.status().revocations;

  async function start(): Promise<TestGate> {
    const g = makeTestGate(dir, provisioned, {
      brokerUrl: broker.url,
      dbPath: join(dir, 'gate.db'),
    });
    await g.app.start();
    await waitUntil(() => g.app.link?.isConnected() === true, 'connected', { timeoutMs: 15_000 });
    await g.app.fleetOps?.ready();
    return g;
  }

  it('a retained snapshot reaching a gate at connection revokes its riders', async () => {
    const doc = {
      kind: 'snapshot',
      seq: 10,
      issuedAt: now(),
      entries: [
        { iss: 'eats', sub: 'banned' },
        { iss: 'eats', sub: 'later', until: now() + 3600 },
      ],
    };
    await ops.publish(SNAPSHOT, await signRevocationDoc(doc, provisioned.ops), true);
    gate = await start();
    await waitUntil(() => status()?.seq === 10, 'snapshot 10 taken', { timeoutMs: 15_000 });
    expect(status()).toMatchObject({ entries: 2, waitingForSnapshot: false, stale: false });
    expect(await gate.scan(gate.token('banned'))).toMatchObject({
      type: 'deny',
      reason: 'revoked',
    });
    expect(await gate.scan(gate.token('fine'))).toMatchObject({ type: 'admit' });
  });

  it('applies the next delta, waits for a snapshot after a gap, and keeps the list across a restart', async () => {
    const d11 = {
      kind: 'delta',
      seq: 11,
      issuedAt: now(),
      add: [{ iss: 'eats', sub: 'new-ban' }],
      remove: [{ iss: 'eats', sub: 'banned' }],
    };
    await ops.publish(DELTA, await signRevocationDoc(d11, provisioned.ops));
    await waitUntil(() => status()?.seq === 11, 'delta 11 applied');
    expect(await gate.scan(gate.token('new-ban'))).toMatchObject({
      type: 'deny',
      reason: 'revoked',
    });
    expect(await gate.scan(gate.token('banned'))).toMatchObject({ type: 'admit' });

    const d13 = {
      kind: 'delta',
      seq: 13,
      issuedAt: now(),
      add: [{ iss: 'eats', sub: 'gap-ban' }],
      remove: [],
    };
    await ops.publish(DELTA, await signRevocationDoc(d13, provisioned.ops));
    await waitUntil(() => status()?.waitingForSnapshot === true, 'waiting for a snapshot');
    expect(status()?.seq).toBe(11);
    expect(await gate.scan(gate.token('gap-ban'))).toMatchObject({ type: 'admit' });

    await gate.app.stop();
    gate = await start();
    expect(status()).toMatchObject({ seq: 11, waitingForSnapshot: true });
    expect(await gate.scan(gate.token('new-ban'))).toMatchObject({
      type: 'deny',
      reason: 'revoked',
    });

    const s14 = {
      kind: 'snapshot',
      seq: 14,
      issuedAt: now(),
      entries: [{ iss: 'eats', sub: 'gap-ban' }],
    };
    await ops.publish(SNAPSHOT, await signRevocationDoc(s14, provisioned.ops), true);
    await waitUntil(() => status()?.seq === 14, 'snapshot 14 taken');
    expect(status()).toMatchObject({ entries: 1, waitingForSnapshot: false });
    expect(await gate.scan(gate.token('gap-ban'))).toMatchObject({
      type: 'deny',
      reason: 'revoked',
    });
    expect(await gate.scan(gate.token('new-ban'))).toMatchObject({ type: 'admit' });
  });

  it('ridergate revocations sign --publish: a delta from the command line takes effect', async () => {
    const seen: string[] = [];
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'delta-watcher' });
    watcher.on('message', (_topic, payload) => seen.push(payload.toString()));
    await watcher.subscribeAsync(DELTA, { qos: 1 });
    const run = promisify(execFile);

    // A misspelt field, a snapshot's array, an empty delta, a bad entry: refused before
    // signing, exit 2, naming the file and the field; nothing is published, seq 15 stays free.
    const refused: [unknown, string][] = [
      [
        { adds: [{ iss: 'eats', sub: 'cli-ban' }] },
        '"adds": unknown field; expected add or remove',
      ],
      [[{ iss: 'eats', sub: 'cli-ban' }], 'an array is a snapshot (give it with --snapshot)'],
      [{}, 'add and remove are both empty; a delta must change something'],
      [{ add: [], remove: [] }, 'add and remove are both empty'],
      [{ add: [{ iss: 'eats', rider: 'x' }] }, 'add[0].rider: unknown field'],
      ['add', 'expected { "add": [...], "remove": [...] }'],
    ];
    for (const [content, message] of refused) {
      const bad = join(dir, 'bad-delta.json');
      writeFileSync(bad, JSON.stringify(content));
      const result = await run(process.execPath, [
        cliPath(),
        ...['revocations', 'sign', '--key', provisioned.opsFile, '--delta', bad, '--seq', '15'],
        ...['--publish', '--url', broker.url],
      ]).catch((err: { code: number; stdout: string; stderr: string }) => err);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      const { stderr } = result as { stderr: string };
      expect(stderr.startsWith(`ridergate: ${bad}: ${message}`), stderr).toBe(true);
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    }

    const file = join(dir, 'delta.json');
    writeFileSync(file, JSON.stringify({ add: [{ iss: 'eats', sub: 'cli-ban' }] }));
    const { stdout } = await run(process.execPath, [
      cliPath(),
      ...['revocations', 'sign', '--key', provisioned.opsFile, '--delta', file, '--seq', '15'],
      ...['--publish', '--url', broker.url],
    ]);
    expect(stdout).toContain('published delta 15 on ridergate/v1/_fleet/revocations/delta');
    await waitUntil(() => status()?.seq === 15, 'delta 15 applied');
    expect(await gate.scan(gate.token('cli-ban'))).toMatchObject({
      type: 'deny',
      reason: 'revoked',
    });
    await waitUntil(() => seen.length > 0, 'the delta seen on the broker');
    expect(seen).toHaveLength(1);
    await watcher.endAsync();
  });
});

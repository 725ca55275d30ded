import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateApp } from '../../src/app.js';
import type { SimScanner } from '../../src/scanner/sim-scanner.js';
import { issueToken } from '../../src/token/issue.js';
import { readPrivateKey, writeKeyPair } from '../../src/token/keys.js';
import { signTrustList } from '../../src/trust/signed-trust-list.js';
import { makeTestGate, type Provisioned, provision } from '../helpers/gate-app.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { waitUntil } from '../helpers/pty.js';

describe.skipIf(mosquittoMissing() !== undefined)(
  'trust lists published on {p}/_fleet/trust',
  () => {
    let dir: string;
    let broker: Mosquitto;
    let ops: MqttClient;
    let app: GateApp;
    let scanner: SimScanner;
    const infos: Record<string, unknown>[] = [];
    let provisioned: Provisioned;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ridergate-fleet-trust-'));
      broker = await startMosquitto();
      provisioned = await provision(dir);
      ops = await mqtt.connectAsync(broker.url, { clientId: 'ops' });
      ops.on('message', (topic, payload) => {
        if (topic.endsWith('/info'))
          infos.push(JSON.parse(payload.toString()) as Record<string, unknown>);
      });
      await ops.subscribeAsync('ridergate/v1/north/g1/info', { qos: 1 });
      const gate = makeTestGate(dir, provisioned, { brokerUrl: broker.url });
      scanner = gate.scanner;
      app = gate.app;
      await app.start();
      await waitUntil(() => infos.some((i) => i.trustVersion === 1), 'info with trust version 1');
    });

    afterAll(async () => {
      await app?.stop();
      await ops?.endAsync();
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function scanWith(privateFile: string, kid: string): Promise<string | undefined> {
      const now = Math.floor(Date.now() / 1000);
      const { text } = issueToken({
        privateKey: readPrivateKey(privateFile).key,
        kid,
        alg: 'EdDSA',
        claims: { iss: 'eats', sub: 'r', iat: now, exp: now + 60 },
      });
      const outcome = new Promise<string | undefined>((resolve) =>
        app.gate?.onOutcome((o) => resolve(o.event.reason ?? o.event.type)),
      );
      scanner.feed(`${text}\r`);
      return outcome;
    }

    it('takes a newer list signed by the root key at once, and says so in info', async () => {
      const next = writeKeyPair(dir, 'next', 'EdDSA', 'next-1');
      expect(await scanWith(next.privateFile, 'next-1')).toBe('unknown_key');

      const jwk: unknown = JSON.parse(readFileSync(next.publicFile, 'utf8'));
      const doc = {
        version: 2,
        issuers: [{ iss: 'eats', keys: [{ kid: 'next-1', alg: 'EdDSA', jwk }] }],
      };
      const root = readPrivateKey(provisioned.rootKeyFile.replace('.pub.json', '.key.json'));
      await ops.publishAsync('ridergate/v1/_fleet/trust', await signTrustList(doc, root), {
        qos: 1,
        retain: true,
      });

      await waitUntil(() => infos.some((i) => i.trustVersion === 2), 'info with trust version 2');
      expect(await scanWith(next.privateFile, 'next-1')).toBe('admit');
      expect(await scanWith(provisioned.privateFile, provisioned.kid)).toBe('unknown_key');
    });

    it('ignores a list signed by any other key', async () => {
      const impostor = writeKeyPair(dir, 'impostor', 'EdDSA');
      const jwk: unknown = JSON.parse(readFileSync(impostor.publicFile, 'utf8'));
      const doc = {
        version: 99,
        issuers: [{ iss: 'eats', keys: [{ kid: 'imp', alg: 'EdDSA', jwk }] }],
      };
      const count = infos.length;
      await ops.publishAsync(
        'ridergate/v1/_fleet/trust',
        await signTrustList(doc, readPrivateKey(impostor.privateFile)),
        { qos: 1, retain: true },
      );
      await waitUntil(() => infos.length > count, 'info published again after the offer');
      expect(infos.at(-1)?.trustVersion).toBe(2);
      expect(await scanWith(impostor.privateFile, 'imp')).toBe('unknown_key');
    });
  },
);

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
import { capturingLogger } from '../helpers/mqtt-watcher.js';
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
    const cap = capturingLogger();

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
      const gate = makeTestGate(dir, provisioned, { brokerUrl: broker.url, log: cap.log });
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

    it('ignores garbage, a list signed by any other key and an older list, without republishing info', async () => {
      const impostor = writeKeyPair(dir, 'impostor', 'EdDSA');
      const root = readPrivateKey(provisioned.rootKeyFile.replace('.pub.json', '.key.json'));
      const listOf = (version: number, file: string, kid: string) => ({
        version,
        issuers: [
          {
            iss: 'eats',
            keys: [{ kid, alg: 'EdDSA', jwk: JSON.parse(readFileSync(file, 'utf8')) }],
          },
        ],
      });
      const next = writeKeyPair(dir, 'third', 'EdDSA', 'third-1');
      const count = infos.length;
      const logged = cap.lines.length;
      const trust = 'ridergate/v1/_fleet/trust';
      const hostile = [
        'not a JWS at all',
        await signTrustList(
          listOf(99, impostor.publicFile, 'imp'),
          readPrivateKey(impostor.privateFile),
        ),
        await signTrustList(listOf(1, impostor.publicFile, 'imp'), root),
      ];
      for (const payload of hostile) await ops.publishAsync(trust, payload, { qos: 1 });
      await ops.publishAsync('ridergate/v1/_fleet/revocations/snapshot', 'garbage', { qos: 1 });
      // A newer valid list, after them: lists are handled in order, so once it is in force
      // every hostile one before it has been handled too.
      await ops.publishAsync(
        trust,
        await signTrustList(listOf(3, next.publicFile, 'third-1'), root),
        { qos: 1, retain: true },
      );
      await waitUntil(() => infos.some((i) => i.trustVersion === 3), 'info with trust version 3');
      expect(infos.slice(count).map((i) => i.trustVersion)).toEqual([3]);
      expect(await scanWith(impostor.privateFile, 'imp')).toBe('unknown_key');
      expect(await scanWith(next.privateFile, 'third-1')).toBe('admit');

      const lines = cap.lines.slice(logged);
      const refused = lines.filter((l) => l.msg === 'trust list refused');
      expect(refused.map((l) => l.level)).toEqual([40, 40]);
      for (const line of refused) {
        expect(line.reason).toEqual(expect.any(String));
        expect(line.err).toBeUndefined();
      }
      expect(lines.filter((l) => l.msg === 'trust list not newer, ignored')).toHaveLength(1);
      await waitUntil(
        () => cap.lines.slice(logged).some((l) => l.msg === 'revocation list refused'),
        'the revocation garbage refused',
      );
      const revocation = cap.lines.slice(logged).filter((l) => l.msg === 'revocation list refused');
      expect(revocation.map((l) => [l.level, l.err])).toEqual([[40, undefined]]);
      expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    });
  },
);

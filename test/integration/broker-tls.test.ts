import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger } from '../helpers/clock-fakes.js';
import { makeTestGate, type Provisioned, provision, type TestGate } from '../helpers/gate-app.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { waitUntil } from '../helpers/pty.js';
import {
  makeTestPki,
  opensslMissing,
  type TestPki,
  tlsListenerConfig,
} from '../helpers/tls-certs.js';

const PASSWORD = 'pw-0f9e8d7c6b5a-never-in-logs';

/**
 * TLS to a real mosquitto that requires a client certificate: the gate verifies the broker
 * (CA and host name) by default and presents its own certificate; secrets stay out of logs.
 */
describe.skipIf(mosquittoMissing() !== undefined || opensslMissing() !== undefined)(
  'the gate talking TLS to the broker',
  () => {
    let dir: string;
    let pki: TestPki;
    let provisioned: Provisioned;
    let broker: Mosquitto;
    let wrongHost: Mosquitto;
    let passwordFile: string;
    const started: TestGate[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ridergate-tls-'));
      // Its own folder, readable by the user mosquitto drops to when started as root.
      pki = makeTestPki(mkdtempSync(join(tmpdir(), 'ridergate-pki-')));
      provisioned = await provision(dir);
      broker = await startMosquitto(tlsListenerConfig(pki, pki.serverCert, pki.serverKey));
      wrongHost = await startMosquitto(tlsListenerConfig(pki, pki.wrongHostCert, pki.wrongHostKey));
      passwordFile = join(dir, 'mqtt.password');
      writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    });
    // Every gate has the same client id: one at a time, or the broker keeps kicking them out.
    afterEach(async () => {
      for (const gate of started.splice(0)) await gate.app.stop();
    });
    afterAll(async () => {
      await broker?.stop();
      await wrongHost?.stop();
      rmSync(dir, { recursive: true, force: true });
      if (pki !== undefined) rmSync(pki.dir, { recursive: true, force: true });
    });

    const tlsUrl = (b: Mosquitto, host = '127.0.0.1') => `mqtts://${host}:${b.port}`;

    async function startGate(name: string, mqtt: Record<string, unknown>) {
      const logs = capturedLogger();
      const gate = makeTestGate(dir, provisioned, {
        brokerUrl: 'mqtt://unused',
        dbPath: join(dir, `${name}.db`),
        over: { mqtt },
        log: logs.log,
      });
      started.push(gate);
      await gate.app.start();
      return { gate, logs };
    }
    const mqttErrors = (logs: ReturnType<typeof capturedLogger>) =>
      logs.lines.filter((l) => l.msg === 'mqtt error');

    it('connects with its client certificate once the broker certificate checks out, and logs no secret', async () => {
      const { gate, logs } = await startGate('ok', {
        url: tlsUrl(broker),
        caFile: pki.caCert,
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
        username: 'north-g1',
        passwordFile,
      });
      await waitUntil(() => gate.app.link?.isConnected() === true, 'connected over TLS', {
        timeoutMs: 15_000,
      });
      await gate.scan(gate.token());
      const logText = JSON.stringify(logs.lines);
      const journal = JSON.stringify(await gate.app.store.undelivered(100));
      const keyBody = readFileSync(pki.clientKey, 'utf8').split('\n')[1] ?? 'no key body';
      for (const secret of [PASSWORD, keyBody]) {
        expect(logText).not.toContain(secret);
        expect(journal).not.toContain(secret);
      }
    });

    it('verifies a host name too (mqtts://localhost)', async () => {
      const { gate } = await startGate('localhost', {
        url: tlsUrl(broker, 'localhost'),
        caFile: pki.caCert,
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
      });
      await waitUntil(() => gate.app.link?.isConnected() === true, 'connected to localhost', {
        timeoutMs: 15_000,
      });
    });

    it('refuses a broker it cannot verify without the CA, with a clear log line', async () => {
      const { gate, logs } = await startGate('noca', {
        url: tlsUrl(broker),
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
      });
      await waitUntil(() => mqttErrors(logs).length > 0, 'a TLS error logged', {
        timeoutMs: 15_000,
      });
      expect(mqttErrors(logs)[0]).toMatchObject({
        tls: 'broker_certificate_rejected',
        hint: expect.stringContaining('mqtt.caFile'),
      });
      expect(gate.app.link?.isConnected()).toBe(false);
    });

    it('refuses a broker whose certificate names another host', async () => {
      const { gate, logs } = await startGate('wronghost', {
        url: tlsUrl(wrongHost),
        caFile: pki.caCert,
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
      });
      await waitUntil(() => mqttErrors(logs).length > 0, 'a TLS error logged', {
        timeoutMs: 15_000,
      });
      expect(mqttErrors(logs)[0]).toMatchObject({
        tls: 'broker_certificate_rejected',
        hint: expect.stringContaining('does not name the host'),
      });
      expect(gate.app.link?.isConnected()).toBe(false);
    });

    it('is refused by a broker that requires a client certificate when it has none', async () => {
      const { gate, logs } = await startGate('nocert', { url: tlsUrl(broker), caFile: pki.caCert });
      await waitUntil(() => mqttErrors(logs).length > 0, 'a TLS error logged', {
        timeoutMs: 15_000,
      });
      expect(mqttErrors(logs)[0]).toMatchObject({ tls: 'client_certificate_required' });
      expect(gate.app.link?.isConnected()).toBe(false);
    });

    it('connects without verification only when told to, and says so loudly', async () => {
      const { gate, logs } = await startGate('insecure', {
        url: tlsUrl(wrongHost),
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
        tlsInsecure: true,
      });
      await waitUntil(() => gate.app.link?.isConnected() === true, 'connected', {
        timeoutMs: 15_000,
      });
      const loud = logs.lines.find((l) => String(l.msg).includes('verification is OFF'));
      expect(loud?.level).toBe(50);
    });

    it('refuses a client key or a password file that others can read', async () => {
      const openKey = join(dir, 'open.key');
      writeFileSync(openKey, readFileSync(pki.clientKey));
      chmodSync(openKey, 0o644);
      await expect(
        startGate('openkey', {
          url: tlsUrl(broker),
          caFile: pki.caCert,
          certFile: pki.clientCert,
          keyFile: openKey,
        }),
      ).rejects.toMatchObject({
        code: 'config_invalid',
        message: expect.stringMatching(/mqtt\.keyFile: .* mode 0644.*chmod 600/),
      });

      const openPassword = join(dir, 'open.password');
      writeFileSync(openPassword, PASSWORD, { mode: 0o604 });
      chmodSync(openPassword, 0o604);
      const refused = await startGate('openpw', {
        url: tlsUrl(broker),
        username: 'north-g1',
        passwordFile: openPassword,
      })
        .then(() => undefined)
        .catch((err: unknown) => err as Error);
      expect(refused?.message).toMatch(/mqtt\.passwordFile: .* mode 0604, so others can read/);
      expect(refused?.message).not.toContain(PASSWORD);
    });

    it('accepts a password file its group can read (mode 0640, group ridergate)', async () => {
      const shared = join(dir, 'group.password');
      writeFileSync(shared, PASSWORD);
      chmodSync(shared, 0o640);
      const { gate } = await startGate('grouppw', {
        url: tlsUrl(broker),
        caFile: pki.caCert,
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
        username: 'north-g1',
        passwordFile: shared,
      });
      await waitUntil(() => gate.app.link?.isConnected() === true, 'connected', {
        timeoutMs: 15_000,
      });
    });
  },
);

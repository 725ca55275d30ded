import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeIssuerAndTrust } from '../helpers/daemon.js';
import {
  freePort,
  type Mosquitto,
  mosquittoMissing,
  startMosquitto,
} from '../helpers/mosquitto.js';

const ridergate = (args: string[]) => runCli(args);

function openssl(args: string[], cwd: string): void {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr}`);
}

/** A CA, and a server certificate for 127.0.0.1 signed by it, written into `dir`. */
function makeCertificates(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name} test CA`,
      '-keyout',
      `${name}-ca.key`,
      '-out',
      `${name}-ca.pem`,
    ],
    dir,
  );
  openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      `${name}-server.key`,
      '-out',
      `${name}-server.csr`,
    ],
    dir,
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}-server.csr`,
      '-CA',
      `${name}-ca.pem`,
      '-CAkey',
      `${name}-ca.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      `${name}-server.pem`,
    ],
    dir,
  );
}

const opensslMissing = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0;

describe.skipIf(mosquittoMissing() !== undefined || opensslMissing)(
  'provision with a TLS broker',
  () => {
    let dir: string;
    let broker: Mosquitto;
    let tlsPort: number;
    let keys: Awaited<ReturnType<typeof writeIssuerAndTrust>>;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ridergate-provision-tls-'));
      chmodSync(dir, 0o755);
      const certs = join(dir, 'certs');
      mkdirSync(certs, { mode: 0o755 });
      makeCertificates(certs, 'fleet');
      makeCertificates(certs, 'other');
      // mosquitto started as root reads the key after dropping to its own user.
      chmodSync(join(certs, 'fleet-server.key'), 0o644);
      tlsPort = await freePort();
      broker = await startMosquitto([
        `listener ${tlsPort} 127.0.0.1`,
        `cafile ${join(certs, 'fleet-ca.pem')}`,
        `certfile ${join(certs, 'fleet-server.pem')}`,
        `keyfile ${join(certs, 'fleet-server.key')}`,
      ]);
      keys = await writeIssuerAndTrust(dir, 'eats');
    });
    afterAll(async () => {
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const provision = (configDir: string, caFile: string) =>
      ridergate([
        'provision',
        '--config-dir',
        configDir,
        '--site',
        'north',
        '--gate',
        'g1',
        '--broker-url',
        `mqtts://127.0.0.1:${tlsPort}`,
        '--ca-file',
        caFile,
        '--root-key',
        keys.rootKeyFile,
        '--trust',
        keys.trustFile,
        '--scanner-driver',
        'sim',
        '--relay-driver',
        'sim',
        '--store-path',
        join(dir, 'gate.db'),
        '--yes',
        '--no-scan',
      ]);

    it('copies the CA in, and the selftest reaches the broker over TLS', async () => {
      const run = await provision(join(dir, 'etc'), join(dir, 'certs', 'fleet-ca.pem'));
      expect(run.stdout).toMatch(
        /^broker +OK +mqtts:\/\/127\.0\.0\.1:\d+: published to .* and received it back$/m,
      );
      expect(run.code).toBe(0);
    });

    it('fails the broker check with the TLS fix when the CA is not the broker’s', async () => {
      const run = await provision(join(dir, 'wrong-ca'), join(dir, 'certs', 'other-ca.pem'));
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^broker +FAIL +mqtts:\/\/127\.0\.0\.1:\d+: .*certificate/m);
      expect(run.stdout).toContain(
        "fix: set mqtt.caFile to the CA that signed the broker's certificate",
      );
    });
  },
);

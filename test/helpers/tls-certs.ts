import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of a test PKI: a CA, broker certificates and a gate client certificate. */
export interface TestPki {
  dir: string;
  caCert: string;
  /** Broker certificate for 127.0.0.1 and localhost, and its key. */
  serverCert: string;
  serverKey: string;
  /** Broker certificate for another host (wrong.example), same CA. */
  wrongHostCert: string;
  wrongHostKey: string;
  /** The gate's client certificate (CN north-g1) and its key (mode 0600). */
  clientCert: string;
  clientKey: string;
}

/** Why TLS tests are skipped, or undefined when openssl is installed. */
export function opensslMissing(): string | undefined {
  if (['/usr/bin/openssl', '/bin/openssl'].some((p) => existsSync(p))) return undefined;
  return 'openssl not found (apt install openssl): TLS tests skipped';
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function leaf(dir: string, name: string, cn: string, san: string | undefined): void {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ]);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, san === undefined ? 'basicConstraints=CA:FALSE\n' : `subjectAltName=${san}\n`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
}

/**
 * Makes the PKI in `dir` with openssl (EC P-256 keys, valid two days). The broker's files are
 * left readable by all (mosquitto started as root reads them as user `mosquitto`); the gate's
 * client key is 0600.
 */
export function makeTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=ridergate test CA',
  ]);
  leaf(dir, 'server', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost');
  leaf(dir, 'wrong', 'wrong.example', 'DNS:wrong.example');
  leaf(dir, 'client', 'north-g1', undefined);
  for (const name of ['server.key', 'wrong.key']) chmodSync(join(dir, name), 0o644);
  chmodSync(join(dir, 'client.key'), 0o600);
  const at = (name: string) => join(dir, name);
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    wrongHostCert: at('wrong.crt'),
    wrongHostKey: at('wrong.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
  };
}

/** mosquitto.conf lines for a TLS listener that requires a client certificate of the CA. */
export function tlsListenerConfig(pki: TestPki, cert: string, key: string): string[] {
  return [`cafile ${pki.caCert}`, `certfile ${cert}`, `keyfile ${key}`, 'require_certificate true'];
}

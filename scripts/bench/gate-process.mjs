// The real daemon (`ridergate run`) for benchmarks: keys and a signed trust list, a socat pty
// pair as the scanner cable, a fake GPIO sysfs tree in a private mount namespace (unshare, a
// tmpfs over /sys/class, as test/helpers/fake-sysfs.ts does), and its config on a broker.

import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { root, waitUntil } from './lib.mjs';

const { issueToken } = await import('../../dist/token/issue.js');
const { readPrivateKey, writeKeyPair } = await import('../../dist/token/keys.js');
const { signTrustList } = await import('../../dist/trust/signed-trust-list.js');

/** A Pi 4 on kernel 6.6 numbers the header's lines from 512: BCM 17 is sysfs GPIO 529. */
const CHIP = { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 };
export const RELAY_PIN = 17;
const LINE = CHIP.base + RELAY_PIN;
export const ISS = 'bench-eats';

/** An EdDSA issuer and a fleet root key in `dir`, and a trust list naming the issuer. */
export async function provision(dir) {
  const issuer = writeKeyPair(dir, 'issuer', 'EdDSA');
  const rootPair = writeKeyPair(dir, 'root', 'EdDSA');
  const jwk = JSON.parse(readFileSync(issuer.publicFile, 'utf8'));
  const doc = {
    version: 1,
    issuers: [{ iss: ISS, keys: [{ kid: issuer.kid, alg: 'EdDSA', jwk }] }],
  };
  const trustFile = join(dir, 'trust.jws');
  writeFileSync(trustFile, await signTrustList(doc, readPrivateKey(rootPair.privateFile)));
  const key = readPrivateKey(issuer.privateFile).key;
  return { kid: issuer.kid, key, trustFile, rootKeyFile: rootPair.publicFile };
}

/** A fresh valid token (new cti) for `site`, as a rider's app would show it. */
export function token(issuer, site, sub = 'rider-bench') {
  const now = Math.floor(Date.now() / 1000);
  return issueToken({
    privateKey: issuer.key,
    kid: issuer.kid,
    alg: 'EdDSA',
    claims: { iss: ISS, sub, iat: now, exp: now + 120, sites: [site] },
  }).text;
}

/** Two ptys joined by socat: the daemon opens `a`, the bench writes to `b`. */
export class PtyPair {
  constructor(dir) {
    this.a = join(dir, 'pty-a');
    this.b = join(dir, 'pty-b');
  }

  async start() {
    rmSync(this.a, { force: true });
    rmSync(this.b, { force: true });
    const link = (path) => `pty,raw,echo=0,link=${path}`;
    this.socat = spawn('socat', [link(this.a), link(this.b)], { stdio: 'ignore' });
    await waitUntil(
      () => this.socat.exitCode !== null || (existsSync(this.a) && existsSync(this.b)),
      'socat links',
    );
    if (this.socat.exitCode !== null) throw new Error('socat exited early');
  }

  /** Writes bytes to `b`, keeping it open (socat ends when the last holder closes a pty). */
  write(text) {
    if (this.fd === undefined) this.fd = openSync(this.b, 'w');
    writeSync(this.fd, Buffer.from(text, 'latin1'));
  }

  async stop() {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const child = this.socat;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

/**
 * Writes the daemon's config to `<dir>/<name>.yaml`: serial scanner on `ptyPath`, onoff relay
 * on BCM 17 with a 50 ms pulse, the store at `dbPath`, the broker at `brokerUrl`.
 */
export function writeConfig(
  dir,
  name,
  { site, gate, ptyPath, dbPath, brokerUrl, issuer, mqtt = {} },
) {
  const file = join(dir, `${name}.yaml`);
  const config = {
    gate: { site, id: gate },
    scanner: { driver: 'serial', path: ptyPath, baudRate: 115200, dedupeMs: 0 },
    relay: { driver: 'onoff', pin: RELAY_PIN, activeLow: false, pulseMs: 50 },
    store: { path: dbPath },
    mqtt: { url: brokerUrl, telemetrySec: 3600, ...mqtt },
    trust: { file: issuer.trustFile, rootKeyFile: issuer.rootKeyFile },
    log: { level: 'info' },
  };
  writeFileSync(file, stringify(config));
  return file;
}

/**
 * Starts `ridergate run --config <configFile>` in a private mount namespace with a fake GPIO
 * tree. Its pid is the daemon's (unshare and sh exec in place). Counts `scan decided` lines.
 * @returns `{ child, pid, startedMono, valueFile, decided(), ready(), stop() }`
 */
export function spawnGate(configFile) {
  const g = '/sys/class/gpio';
  const steps = [
    'set -e',
    'mount -t tmpfs -o size=1m ridergate-bench-sysfs /sys/class',
    `mkdir -p ${g} && : > ${g}/export && : > ${g}/unexport`,
    `mkdir ${g}/gpiochip${CHIP.base} && echo ${CHIP.label} > ${g}/gpiochip${CHIP.base}/label`,
    `echo ${CHIP.base} > ${g}/gpiochip${CHIP.base}/base && echo ${CHIP.ngpio} > ${g}/gpiochip${CHIP.base}/ngpio`,
    `mkdir ${g}/gpio${LINE} && echo in > ${g}/gpio${LINE}/direction && echo 0 > ${g}/gpio${LINE}/value`,
    `echo 0 > ${g}/gpio${LINE}/active_low && echo none > ${g}/gpio${LINE}/edge`,
    'exec "$@"',
  ];
  const cli = join(root, 'dist', 'cli', 'main.js');
  const startedMono = performance.now();
  const child = spawn(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      steps.join('\n'),
      'sh',
      process.execPath,
      cli,
      'run',
      '--config',
      configFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let decided = 0;
  let ready = false;
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (process.env.BENCH_DEBUG === '1') process.stderr.write(`${line}\n`);
      if (line.includes('"msg":"scan decided"')) decided += 1;
      else if (line.includes('"msg":"gate ready"')) ready = true;
    }
  });
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  return {
    child,
    pid: child.pid,
    startedMono,
    valueFile: `/proc/${child.pid}/root${g}/gpio${LINE}/value`,
    decided: () => decided,
    /** Resolves once the daemon logged `gate ready`; throws when it exited first. */
    ready: async (timeoutMs = 30_000) => {
      await waitUntil(() => ready || child.exitCode !== null, 'gate ready', { timeoutMs });
      if (child.exitCode !== null) throw new Error(`the gate exited early: ${stderr.trim()}`);
    },
    stop: () => stopChild(child),
  };
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The relay level as the daemon left it in its fake tree: '1' active, '0' not, '' gone. */
export function readLevel(valueFile) {
  try {
    return readFileSync(valueFile, 'utf8').trim().slice(0, 1);
  } catch {
    return '';
  }
}

/**
 * A pty pair and a daemon for gate `name` of site `site`, its store at `<dir>/<name>.db`, on
 * `broker`; `mqtt` overrides settings of the mqtt section. Does not wait for it to be ready.
 * @returns `{ pty, gate, stop() }`
 */
export async function launchGate(dir, name, { site, broker, issuer, mqtt = {} }) {
  const pty = new PtyPair(mkdtempSync(join(dir, `${name}-pty-`)));
  await pty.start();
  const config = writeConfig(dir, name, {
    site,
    gate: name,
    ptyPath: pty.a,
    dbPath: join(dir, `${name}.db`),
    brokerUrl: broker.url,
    issuer,
    mqtt,
  });
  const gate = spawnGate(config);
  const stop = async () => {
    await gate.stop();
    await pty.stop();
  };
  return { pty, gate, stop };
}

import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { GateApp } from '../../app.js';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { makeFolder } from '../../files.js';
import type { ScanOutcome } from '../../gate/gate-controller.js';
import { SimRelay } from '../../gpio/sim-relay.js';
import { createLogger } from '../../log.js';
import { SimScanner } from '../../scanner/sim-scanner.js';
import { readPrivateKey, writeKeyPair } from '../../token/keys.js';
import { signTrustList } from '../../trust/signed-trust-list.js';
import { buildDemoCases } from './demo-cases.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { OpsSubscriber } from './ops-subscriber.js';
import { hasSocat, openPtyPair, type PtyPair } from './pty-pair.js';
import { printCase, printClosing, printHeader } from './report.js';
import { type CaseResult, checkCase } from './run-case.js';

const SITE = 'demo-site';
const GATE = 'gate-1';
const TIMINGS = { pulseMs: 500, dedupeMs: 400, graceMs: 3000 };

export interface DemoOptions {
  /** Folder for keys, QR images, the database and the gate's log; a new temp folder if absent. */
  dir?: string;
  /** Use the simulated scanner even when socat is present. */
  sim?: boolean;
  out: (line: string) => void;
}

/** Runs the whole gate on one machine and returns true when every case behaved as expected. */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ridergate-demo-'));
  makeFolder(dir, '--dir');
  const out = options.out;

  const issuer = writeKeyPair(dir, 'issuer', 'EdDSA');
  const forger = writeKeyPair(dir, 'forger', 'EdDSA');
  await writeSignedTrustList(dir, issuer.publicFile, issuer.kid);

  const broker = await startEmbeddedBroker();
  const usePty = options.sim !== true && hasSocat();
  const pty: PtyPair | undefined = usePty ? await openPtyPair(dir) : undefined;
  const logFd = openSync(join(dir, 'gate.log'), 'a');
  const log = createLogger('info', logFd);
  const relay = new SimRelay(log);
  const config = demoConfig(dir, broker.url, pty?.gatePath);
  const sim =
    pty === undefined ? new SimScanner({ ...config.scanner, source: 'sim' }, log) : undefined;
  const app = new GateApp(
    config,
    'demo',
    log,
    sim === undefined ? { relay } : { relay, scanner: sim },
  );
  const ops = await OpsSubscriber.connect(broker.url, `${config.mqtt.prefix}/${SITE}/${GATE}/#`);

  printHeader(out, {
    dir,
    brokerUrl: broker.url,
    pty,
    prefix: config.mqtt.prefix,
    site: SITE,
    gate: GATE,
  });
  const results: CaseResult[] = [];
  let feedFd: number | undefined;
  try {
    await app.start();
    feedFd = pty === undefined ? undefined : openSync(pty.feedPath, 'w');
    const feed = (bytes: Buffer) =>
      feedFd === undefined ? sim?.feed(bytes) : writeSync(feedFd, bytes);
    const outcomes = collectOutcomes(app);
    const cases = buildDemoCases(
      {
        issuer: { key: readPrivateKey(issuer.privateFile).key, kid: issuer.kid },
        forger: { key: readPrivateKey(forger.privateFile).key },
      },
      {
        nowSec: Math.floor(Date.now() / 1000),
        site: SITE,
        dedupeMs: TIMINGS.dedupeMs,
        graceMs: TIMINGS.graceMs,
      },
    );
    for (const [index, demoCase] of cases.entries()) {
      await sleep(demoCase.waitMs);
      const result = await checkCase(demoCase, index, { dir, feed, outcomes, ops, relay });
      printCase(out, index + 1, cases.length, demoCase, result);
      results.push(result);
    }
  } finally {
    if (feedFd !== undefined) closeSync(feedFd);
    await app.stop();
  }
  const offline = await ops.waitFor(
    (m) => m.topic.endsWith('/status') && m.payload.includes('"offline"'),
    3000,
  );
  await ops.close();
  await broker.close();
  pty?.close();
  log.flush();
  const passed = results.filter((r) => r.ok).length;
  const allOk = passed === results.length && results.length > 0 && offline !== undefined;
  printClosing(out, { passed, total: results.length, offline: offline !== undefined, dir, allOk });
  return allOk;
}

/** Turns the gate's outcome callbacks into a queue the cases take from in order. */
function collectOutcomes(app: GateApp): () => Promise<ScanOutcome | undefined> {
  const queue: ScanOutcome[] = [];
  let wake: (() => void) | undefined;
  app.gate?.onOutcome((outcome) => {
    queue.push(outcome);
    wake?.();
  });
  return async () => {
    const deadline = performance.now() + 5000;
    while (queue.length === 0 && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return queue.shift();
  };
}

function demoConfig(dir: string, brokerUrl: string, ptyPath: string | undefined): Config {
  return validateConfig(
    {
      gate: { site: SITE, id: GATE, name: 'Demo gate' },
      scanner: {
        driver: ptyPath === undefined ? 'sim' : 'serial',
        path: ptyPath ?? 'sim',
        baudRate: 9600,
        terminator: 'auto',
        maxLength: 1024,
        dedupeMs: TIMINGS.dedupeMs,
        reconnectMinMs: 100,
        reconnectMaxMs: 1000,
      },
      relay: { driver: 'sim', pin: 17, activeLow: false, pulseMs: TIMINGS.pulseMs },
      store: { path: join(dir, 'ridergate.db'), retentionDays: 90 },
      mqtt: { url: brokerUrl, prefix: 'ridergate/v1', telemetrySec: 60 },
      trust: { rootKeyFile: join(dir, 'root.pub.json'), file: join(dir, 'trust.jws') },
      policy: { skewSec: 30, reopenGraceSec: TIMINGS.graceMs / 1000 },
      log: { level: 'info' },
    },
    'demo configuration',
  );
}

/**
 * Writes the fleet root key pair, the trust list document (trust.yaml) naming the demo issuer,
 * and that list signed by the root key (trust.jws), as operations would with `trust sign`.
 */
async function writeSignedTrustList(dir: string, publicFile: string, kid: string): Promise<void> {
  const root = writeKeyPair(dir, 'root', 'EdDSA');
  const jwk: unknown = JSON.parse(readFileSync(publicFile, 'utf8'));
  const doc = {
    version: 1,
    issuers: [{ iss: 'demo-eats', maxLifetimeSec: 300, keys: [{ kid, alg: 'EdDSA', jwk }] }],
  };
  writeFileSync(join(dir, 'trust.yaml'), stringify(doc));
  const jws = await signTrustList(doc, readPrivateKey(root.privateFile), 'demo trust list');
  writeFileSync(join(dir, 'trust.jws'), `${jws}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

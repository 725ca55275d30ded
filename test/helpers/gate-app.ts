import { join } from 'node:path';
import { type AppOverrides, GateApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { JournaledEvent } from '../../src/gate/resilient-journal.js';
import { SimRelay } from '../../src/gpio/sim-relay.js';
import { type Logger, silentLogger } from '../../src/log.js';
import { SimScanner } from '../../src/scanner/sim-scanner.js';
import { issueToken } from '../../src/token/issue.js';
import { readPrivateKey } from '../../src/token/keys.js';
import { writeIssuerAndTrust } from './daemon.js';

/** A whole gate in this process with the simulated scanner and relay, for integration tests. */
export interface TestGate {
  app: GateApp;
  scanner: SimScanner;
  relay: SimRelay;
  config: Config;
  /** A fresh valid token of the provisioned issuer, for this gate's site. */
  token(sub?: string): string;
  /** Feeds one scan and resolves with the event it produced (no `seq` while held in memory). */
  scan(text: string): Promise<JournaledEvent | undefined>;
}

/** Keys and a signed trust list in `dir`, made once per test file. */
export type Provisioned = Awaited<ReturnType<typeof writeIssuerAndTrust>>;

export async function provision(dir: string): Promise<Provisioned> {
  return writeIssuerAndTrust(dir, 'eats');
}

/**
 * Builds (does not start) a gate whose store is `dbPath`, talking to `brokerUrl`.
 * @param over settings merged over the test defaults, section by section.
 */
export function makeTestGate(
  dir: string,
  provisioned: Provisioned,
  opts: {
    brokerUrl: string;
    dbPath?: string;
    over?: Partial<Record<keyof Config, Record<string, unknown>>>;
    /** Drivers and time sources besides the simulated scanner and relay. */
    overrides?: Omit<AppOverrides, 'scanner' | 'relay'>;
    /** The gate's logger; default silent. */
    log?: Logger;
  },
): TestGate {
  const base: Record<string, Record<string, unknown>> = {
    gate: { site: 'north', id: 'g1' },
    scanner: {
      driver: 'sim',
      path: 'sim',
      baudRate: 9600,
      terminator: 'auto',
      maxLength: 1024,
      dedupeMs: 0,
      reconnectMinMs: 100,
      reconnectMaxMs: 1000,
    },
    relay: { driver: 'sim', pin: 17, activeLow: false, pulseMs: 50 },
    store: { path: opts.dbPath ?? join(dir, 'gate.db'), retentionDays: 90 },
    mqtt: { url: opts.brokerUrl, prefix: 'ridergate/v1', telemetrySec: 60 },
    trust: { rootKeyFile: provisioned.rootKeyFile, file: provisioned.trustFile },
    policy: { skewSec: 30, reopenGraceSec: 20 },
    log: { level: 'silent' },
  };
  for (const [section, values] of Object.entries(opts.over ?? {}))
    base[section] = { ...base[section], ...values };
  const config = validateConfig(base, 'test gate');
  const scanner = new SimScanner({ ...config.scanner }, silentLogger());
  const relay = new SimRelay(silentLogger());
  const app = new GateApp(config, 'test', opts.log ?? silentLogger(), {
    ...opts.overrides,
    scanner,
    relay,
  });
  const key = readPrivateKey(provisioned.privateFile);
  return {
    app,
    scanner,
    relay,
    config,
    token: (sub = 'rider-1') => {
      const now = Math.floor(Date.now() / 1000);
      return issueToken({
        privateKey: key.key,
        kid: key.kid,
        alg: key.alg,
        claims: { iss: 'eats', sub, iat: now, exp: now + 120 },
      }).text;
    },
    scan: (text) =>
      new Promise((resolve) => {
        let done = false;
        app.gate?.onOutcome((o) => {
          if (!done) {
            done = true;
            resolve(o.event);
          }
        });
        scanner.feed(`${text}\r`);
      }),
  };
}

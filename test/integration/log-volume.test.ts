import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { GateApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { SimRelay } from '../../src/gpio/sim-relay.js';
import { REDACT_PATHS } from '../../src/log.js';
import { SimScanner } from '../../src/scanner/sim-scanner.js';
import { issueToken } from '../../src/token/issue.js';
import { readPrivateKey } from '../../src/token/keys.js';
import { type AedesBroker, startAedes } from '../helpers/aedes.js';
import { writeIssuerAndTrust } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/pty.js';

/** How long the gate is left idle, ms: telemetry, outbox, store housekeeping all get to run. */
const IDLE_MS = 4_000;

interface Line {
  level: number;
  msg: string;
  time: number;
  [field: string]: unknown;
}

/**
 * Log volume on an SD card (issue 7): a whole gate in this process (real store, trust list,
 * MQTT link to an embedded broker, simulated scanner and relay) logs at the daemon's level,
 * info. Idle, it writes nothing; each scan writes exactly one info line.
 */
describe('log volume of a running gate', () => {
  let dir: string;
  let broker: AedesBroker;
  let app: GateApp;
  let scanner: SimScanner;
  let privateFile: string;
  const lines: Line[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-logvol-'));
    broker = await startAedes();
    const trust = await writeIssuerAndTrust(dir, 'eats');
    privateFile = trust.privateFile;
    const file = join(dir, 'gate.yaml');
    writeFileSync(
      file,
      stringify({
        gate: { site: 'depot-7', id: 'north' },
        scanner: { driver: 'sim', dedupeMs: 0 },
        relay: { driver: 'sim', pulseMs: 50 },
        store: { path: join(dir, 'gate.db') },
        mqtt: { url: broker.url, telemetrySec: 5 },
        trust: { rootKeyFile: trust.rootKeyFile, file: trust.trustFile },
      }),
    );
    const { config } = loadConfig(file, {});
    // Telemetry every second instead of the shortest allowed 5 s: one idle second, one round.
    config.mqtt.telemetrySec = 1;
    const log = pino(
      { level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
      { write: (line: string) => lines.push(JSON.parse(line) as Line) },
    );
    scanner = new SimScanner({ ...config.scanner }, log);
    app = new GateApp(config, 'test', log, { scanner, relay: new SimRelay(log) });
    await app.start();
    // Start-up ends with the link connected and the revocation list loaded in the background
    // (on a loaded machine the list can come after the connection): both before idling.
    for (const msg of ['link connected', 'revocation list loaded']) {
      await waitUntil(() => lines.some((l) => l.msg === msg), msg, { timeoutMs: 15_000 });
    }
  });

  afterAll(async () => {
    await app?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes no line at all while idle, though telemetry goes out every second', async () => {
    const since = lines.length;
    const telemetryBefore = app.link?.stats().telemetrySent ?? 0;
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    expect(lines.slice(since)).toEqual([]);
    // The gate was not silent because it was doing nothing: telemetry kept flowing.
    expect(app.link?.stats().telemetrySent).toBeGreaterThanOrEqual(telemetryBefore + 2);
  });

  it('writes exactly one info line per scan, naming the decision and the token id', async () => {
    const key = readPrivateKey(privateFile);
    const since = lines.length;
    const now = Math.floor(Date.now() / 1000);
    for (const sub of ['rider-1', 'rider-2', 'rider-3']) {
      const { text } = issueToken({
        privateKey: key.key,
        kid: key.kid,
        alg: key.alg,
        claims: { iss: 'eats', sub, iat: now, exp: now + 120 },
      });
      const decided = lines.filter((l) => l.msg === 'scan decided').length;
      scanner.feed(`${text}\r`);
      await waitUntil(
        () => lines.filter((l) => l.msg === 'scan decided').length > decided,
        'scan decided',
      );
    }
    scanner.feed('not a token\r');
    await waitUntil(() => lines.filter((l) => l.msg === 'scan decided').length === 4, 'deny');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // telemetry, pulses ending

    const written = lines.slice(since);
    expect(written.map((l) => [l.level, l.msg])).toEqual(Array(4).fill([30, 'scan decided']));
    expect(written.map((l) => l.decision)).toEqual(['admit', 'admit', 'admit', 'deny']);
    expect(written.slice(0, 3).every((l) => typeof l.cti === 'string')).toBe(true);
  });
});

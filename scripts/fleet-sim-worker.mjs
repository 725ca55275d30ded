// One shard of the fleet simulator: runs gates [from, to) of `node scripts/fleet-sim.mjs` in this
// process, each a real GateApp (decision pipeline, SQLite store, MQTT link) with the simulated
// scanner and relay, and feeds scans at the requested rate. Started by fleet-sim.mjs with
// child_process.fork; it talks to the parent over IPC only.

import { join } from 'node:path';

const { GateApp } = await import('../dist/app.js');
const { validateConfig } = await import('../dist/config/load.js');
const { SimRelay } = await import('../dist/gpio/sim-relay.js');
const { silentLogger } = await import('../dist/log.js');
const { SimScanner } = await import('../dist/scanner/sim-scanner.js');
const { issueToken } = await import('../dist/token/issue.js');
const { readPrivateKey } = await import('../dist/token/keys.js');

/** Gates started at once: enough to connect fast, few enough not to flood the threadpool. */
const START_BATCH = 25;
const TICK_MS = 50;

const plan = JSON.parse(process.argv[2] ?? '{}');
// The parent gone (killed, even with SIGKILL) closes the IPC channel: a worker never outlives it.
process.on('disconnect', () => process.exit(1));
const log = silentLogger();
const key = readPrivateKey(plan.issuerKeyFile);
const gates = [];
let scans = 0;
let stopping = false;

function gateConfig(index) {
  return validateConfig(
    {
      gate: { site: `sim-${Math.floor(index / plan.gatesPerSite)}`, id: `g${index}` },
      scanner: {
        driver: 'sim',
        path: 'sim',
        baudRate: 9600,
        terminator: 'auto',
        maxLength: 1024,
        dedupeMs: 0,
        reconnectMinMs: 250,
        reconnectMaxMs: 5000,
      },
      relay: { driver: 'sim', pin: 17, activeLow: false, pulseMs: 50 },
      store: { path: join(plan.dir, `gate-${index}.db`), retentionDays: 1 },
      mqtt: { url: plan.url, prefix: plan.prefix, telemetrySec: plan.telemetrySec },
      trust: { rootKeyFile: plan.rootKeyFile, file: plan.trustFile },
      policy: { skewSec: 30, reopenGraceSec: 20 },
      log: { level: 'silent' },
    },
    'fleet-sim gate',
  );
}

/** A scan as riders bring them: mostly valid, some expired, some unreadable. */
function scanText(index) {
  const now = Math.floor(Date.now() / 1000);
  const roll = Math.random();
  if (roll < 0.08) return `RP1:UNREADABLE${index}`;
  const expired = roll < 0.15;
  const claims = expired
    ? { iss: 'sim-eats', sub: `rider-${index}`, iat: now - 600, exp: now - 300 }
    : { iss: 'sim-eats', sub: `rider-${index}-${scans}`, iat: now, exp: now + 120 };
  return issueToken({ privateKey: key.key, kid: key.kid, alg: key.alg, claims }).text;
}

async function startGate(index) {
  const config = gateConfig(index);
  const scanner = new SimScanner({ ...config.scanner }, log);
  const relay = new SimRelay(log);
  const app = new GateApp(config, 'fleet-sim', log, { scanner, relay });
  await app.start();
  gates.push({ index, app, scanner, nextScanMs: Date.now() + Math.random() * gapMs() });
}

function gapMs() {
  return plan.scanRate > 0
    ? (60_000 / plan.scanRate) * (0.5 + Math.random())
    : Number.POSITIVE_INFINITY;
}

function tick() {
  if (stopping || !plan.scanning) return;
  const now = Date.now();
  for (const gate of gates) {
    if (gate.nextScanMs > now) continue;
    gate.nextScanMs = now + gapMs();
    scans += 1;
    gate.scanner.feed(`${scanText(gate.index)}\r`);
  }
}

async function main() {
  const started = performance.now();
  for (let i = plan.from; i < plan.to; i += START_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(plan.to, i + START_BATCH); j++) batch.push(startGate(j));
    await Promise.all(batch);
  }
  process.send?.({ type: 'started', gates: gates.length, ms: performance.now() - started });
  const timer = setInterval(tick, TICK_MS);
  const stats = setInterval(
    () => process.send?.({ type: 'stats', rss: process.memoryUsage().rss, scans }),
    1000,
  );
  process.on('message', async (message) => {
    if (message?.type === 'scan') plan.scanning = true;
    if (message?.type !== 'stop' || stopping) return;
    stopping = true;
    clearInterval(timer);
    clearInterval(stats);
    process.send?.({ type: 'stats', rss: process.memoryUsage().rss, scans });
    await Promise.all(gates.map((g) => g.app.stop()));
    process.send?.({ type: 'stopped' }, () => process.exit(0));
  });
}

main().catch((err) => {
  process.send?.({ type: 'failed', error: String(err?.message ?? err).split('\n')[0] }, () =>
    process.exit(1),
  );
});

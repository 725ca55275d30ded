#!/usr/bin/env node
// Fleet simulator: N gates running the real gate logic (GateApp: decision pipeline, SQLite
// store, MQTT link; simulated scanner and relay) against one broker, for demos and for load.
// Runs the built code: `npm run build` first (`npm run fleet-sim` does).
//
//   npm run fleet-sim -- --gates 500                 500 gates, local mosquitto, 60 s of scans
//   npm run fleet-sim -- --gates 20 --url mqtt://broker:1883 --seconds 300 --scan-rate 2
//   npm run fleet-sim:short                          5 gates for 5 s (CI)
//
// Options: --gates N (10), --url (none: starts /usr/sbin/mosquitto on a free port, MOSQUITTO_BIN
// overrides), --prefix (ridergate/v1), --seconds S of scanning (60), --scan-rate scans per gate
// per minute (6), --workers W processes (one per 125 gates), --telemetry-sec (60), --json, --ws
// (the local mosquitto also listens for MQTT over WebSocket, for `ridergate ops`).
// Reports what an operations subscriber receives (messages per second), the broker round trip
// of a probe (publish → receive, QoS 1), the time until every gate is online, and RSS.

import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'app.js'))) {
  process.stderr.write('fleet-sim: dist/ is missing; run "npm run build" first\n');
  process.exit(2);
}
const { default: mqtt } = await import('mqtt');
const { FleetState } = await import('../dist/fleet/fleet-state.js');
const { fleetFilters } = await import('../dist/fleet/topic.js');
const { writeKeyPair, readPrivateKey } = await import('../dist/token/keys.js');
const { signTrustList } = await import('../dist/trust/signed-trust-list.js');
const { startMosquitto } = await import('./bench/broker.mjs');
const { rssOf } = await import('./bench/lib.mjs');

const GATES_PER_WORKER = 125;
const PROBE_EVERY_MS = 100;
const ONLINE_TIMEOUT_MS = 300_000;

function parseArgs(argv) {
  const opts = { gates: 10, seconds: 60, scanRate: 6, prefix: 'ridergate/v1', telemetrySec: 60 };
  const numeric = {
    '--gates': 'gates',
    '--seconds': 'seconds',
    '--scan-rate': 'scanRate',
    '--workers': 'workers',
    '--telemetry-sec': 'telemetrySec',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--short') Object.assign(opts, { gates: 5, seconds: 5, scanRate: 60 });
    else if (arg === '--json') opts.json = true;
    else if (arg === '--ws') opts.ws = true;
    else if (arg === '--url') opts.url = argv[++i];
    else if (arg === '--prefix') opts.prefix = argv[++i];
    else if (arg in numeric) opts[numeric[arg]] = wholeNumber(arg, argv[++i]);
    else fail(`unknown option ${arg}`);
  }
  if (opts.gates < 1 || opts.gates > 20_000) fail('--gates: expected 1 to 20000');
  if (opts.telemetrySec < 5) fail('--telemetry-sec: expected 5 or more');
  opts.workers = Math.min(opts.gates, opts.workers ?? Math.ceil(opts.gates / GATES_PER_WORKER));
  return opts;
}

function wholeNumber(flag, value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`${flag} ${value}: expected a whole number`);
  return n;
}

/** Child processes to end when the simulator stops early: mosquitto and the workers. */
const children = [];
/** The temporary folder (keys, stores, broker configuration), removed however the run ends. */
let tempDir;

function fail(message, code = 2) {
  process.stderr.write(`fleet-sim: ${message}\n`);
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  process.exit(code);
}

process.once('SIGINT', () => fail('interrupted', 130));

function say(opts, line) {
  if (!opts.json) process.stdout.write(`${line}\n`);
}

/** Keys and a trust list as a gate is provisioned: an issuer, a fleet root. */
async function provision(dir) {
  const issuer = writeKeyPair(dir, 'issuer', 'EdDSA');
  const rootKey = writeKeyPair(dir, 'root', 'EdDSA');
  const jwk = JSON.parse(readFileSync(issuer.publicFile, 'utf8'));
  const doc = {
    version: 1,
    issuers: [{ iss: 'sim-eats', keys: [{ kid: issuer.kid, alg: 'EdDSA', jwk }] }],
  };
  const trustFile = join(dir, 'trust.jws');
  writeFileSync(trustFile, await signTrustList(doc, readPrivateKey(rootKey.privateFile)));
  return { issuerKeyFile: issuer.privateFile, rootKeyFile: rootKey.publicFile, trustFile };
}

/** The operations side: every gate message folded into the fleet state, and the probe. */
async function startOps(url, prefix) {
  const client = await mqtt.connectAsync(url, {
    clientId: `fleet-sim-ops-${process.pid}`,
    clean: true,
  });
  const fleet = new FleetState({ prefix, maxGates: 100_000, maxEvents: 100 });
  const probeTopic = `${prefix}/_probe/${process.pid}`;
  const ops = { client, fleet, received: 0, byKind: {}, rttMs: [], probeSent: new Map() };
  client.on('message', (topic, payload) => {
    if (topic === probeTopic) {
      const sent = ops.probeSent.get(payload.toString());
      if (sent !== undefined) ops.rttMs.push(performance.now() - sent);
      return;
    }
    ops.received += 1;
    const kind = topic.slice(topic.lastIndexOf('/') + 1);
    ops.byKind[kind] = (ops.byKind[kind] ?? 0) + 1;
    fleet.apply(topic, payload, Date.now());
  });
  await client.subscribeAsync([...fleetFilters(prefix), probeTopic], { qos: 1 });
  let n = 0;
  ops.probe = () => {
    n += 1;
    ops.probeSent.set(String(n), performance.now());
    client.publish(probeTopic, String(n), { qos: 1 });
  };
  return ops;
}

function startWorkers(opts, plan) {
  const workers = [];
  const per = Math.ceil(opts.gates / opts.workers);
  for (let w = 0; w < opts.workers; w++) {
    const from = w * per;
    const to = Math.min(opts.gates, from + per);
    if (from >= to) break;
    const child = fork(
      join(root, 'scripts', 'fleet-sim-worker.mjs'),
      [JSON.stringify({ ...plan, from, to })],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    children.push(child);
    const worker = { child, rss: 0, scans: 0, started: false, stopped: false };
    child.on('message', (m) => {
      if (m.type === 'started') worker.started = true;
      if (m.type === 'stats') Object.assign(worker, { rss: m.rss, scans: m.scans });
      if (m.type === 'stopped') worker.stopped = true;
      if (m.type === 'failed') fail(`worker ${w} failed: ${m.error}`);
    });
    child.on('exit', (code) => {
      if (!worker.stopped && code !== 0) fail(`worker ${w} exited with ${code}`);
    });
    workers.push(worker);
  }
  return workers;
}

async function waitFor(condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (n, digits = 1) => (n === null ? null : Number(n.toFixed(digits)));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-fleet-sim-'));
  tempDir = dir;
  const broker =
    opts.url === undefined
      ? await startMosquitto({
          // A fleet needs more connections and queued messages than the defaults allow.
          config: ['max_connections -1', 'max_queued_messages 10000'],
          ws: opts.ws,
        }).catch((err) => fail(err.message))
      : undefined;
  if (broker !== undefined) children.push(broker.child);
  const url = opts.url ?? broker.url;
  const keys = await provision(dir);
  const ops = await startOps(url, opts.prefix);
  say(
    opts,
    `fleet-sim: ${opts.gates} gates in ${opts.workers} worker processes against ${broker ? 'a local mosquitto' : url}`,
  );

  say(opts, `watch it: node dist/cli/main.js watch --url ${url} --prefix ${opts.prefix}`);
  if (broker?.wsUrl !== undefined)
    say(
      opts,
      `or in a browser: node dist/cli/main.js ops --port 8080 --broker-ws ${broker.wsUrl} --prefix ${opts.prefix}`,
    );
  const t0 = performance.now();
  const plan = {
    ...keys,
    dir,
    url,
    prefix: opts.prefix,
    telemetrySec: opts.telemetrySec,
    scanRate: opts.scanRate,
    gatesPerSite: 50,
  };
  const workers = startWorkers(opts, plan);
  const online = () => opts.gates === ops.fleet.list().filter((g) => g.state === 'online').length;
  const allOnline = await waitFor(online, ONLINE_TIMEOUT_MS);
  const connectSec = (performance.now() - t0) / 1000;
  say(
    opts,
    allOnline
      ? `all ${opts.gates} gates online after ${connectSec.toFixed(1)} s`
      : `only ${ops.fleet.list().filter((g) => g.state === 'online').length} gates online after ${connectSec.toFixed(1)} s`,
  );
  await waitFor(() => workers.every((w) => w.started), ONLINE_TIMEOUT_MS);

  for (const w of workers) w.child.send({ type: 'scan' });
  const before = {
    received: ops.received,
    events: ops.byKind.events ?? 0,
    scans: sum(workers, 'scans'),
  };
  const windowStart = performance.now();
  const probe = setInterval(ops.probe, PROBE_EVERY_MS);
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  clearInterval(probe);
  const windowSec = (performance.now() - windowStart) / 1000;
  const simRss = process.memoryUsage().rss + sum(workers, 'rss');
  const report = buildReport({
    opts,
    ops,
    workers,
    before,
    windowSec,
    connectSec,
    allOnline,
    simRss,
    broker,
  });

  for (const w of workers) w.child.send({ type: 'stop' });
  await waitFor(() => workers.every((w) => w.stopped), 60_000);
  report.scansFed = sum(workers, 'scans') - before.scans;
  report.offlineAfterStop = ops.fleet.list().filter((g) => g.state === 'offline').length;
  await ops.client.endAsync();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
  print(opts, report);
}

function sum(workers, field) {
  return workers.reduce((a, w) => a + w[field], 0);
}

function buildReport({
  opts,
  ops,
  workers,
  before,
  windowSec,
  connectSec,
  allOnline,
  simRss,
  broker,
}) {
  const rtt = [...ops.rttMs].sort((a, b) => a - b);
  const events = (ops.byKind.events ?? 0) - before.events;
  const denials = {};
  let admits = 0;
  for (const g of ops.fleet.list()) {
    const totals = g.hour.totals(Date.now());
    admits += totals.admits;
    for (const [reason, n] of Object.entries(totals.denials))
      denials[reason] = (denials[reason] ?? 0) + n;
  }
  return {
    gates: opts.gates,
    workers: workers.length,
    allOnline,
    connectSec: round(connectSec),
    windowSec: round(windowSec),
    scansFed: sum(workers, 'scans') - before.scans,
    eventsReceived: events,
    messagesPerSec: round((ops.received - before.received) / windowSec),
    eventsPerSec: round(events / windowSec),
    admits,
    denials,
    rttMs: {
      n: rtt.length,
      p50: round(percentile(rtt, 50), 2),
      p99: round(percentile(rtt, 99), 2),
      max: round(rtt.at(-1) ?? null, 2),
    },
    rssMb: {
      simulator: round(simRss / 2 ** 20),
      perGate: round(simRss / 2 ** 20 / opts.gates, 2),
      mosquitto: broker ? round((rssOf(broker.pid) ?? 0) / 2 ** 20) : null,
    },
    rejected: ops.fleet.counts.rejected,
  };
}

function print(opts, r) {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const rows = [
    ['gates (worker processes)', `${r.gates} (${r.workers})`],
    [
      'time until every gate is online',
      `${r.connectSec} s${r.allOnline ? '' : ' (not all came online)'}`,
    ],
    ['scanning window', `${r.windowSec} s, ${r.scansFed} scans fed`],
    ['messages received by operations', `${r.messagesPerSec} /s (events ${r.eventsPerSec} /s)`],
    [
      'admits / denials (last hour)',
      `${r.admits} / ${
        Object.entries(r.denials)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 0
      }`,
    ],
    [
      'broker round trip p50 / p99 / max',
      `${r.rttMs.p50} / ${r.rttMs.p99} / ${r.rttMs.max} ms (${r.rttMs.n} probes, QoS 1)`,
    ],
    ['RSS simulator (per gate)', `${r.rssMb.simulator} MB (${r.rssMb.perGate} MB)`],
    ['RSS mosquitto', r.rssMb.mosquitto === null ? 'external broker' : `${r.rssMb.mosquitto} MB`],
    ['gates offline after a clean stop', String(r.offlineAfterStop)],
  ];
  process.stdout.write(
    `\n| figure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`,
  );
}

await main();

#!/usr/bin/env node
// Fleet simulator: N gates running the real gate logic (GateApp: decision pipeline, SQLite
// store, MQTT link; simulated scanner and relay) against one broker, for demos and for load.
// Runs the built code: `npm run build` first (`npm run fleet-sim` does).
//
//   npm run fleet-sim -- --gates 500                 500 gates, local mosquitto, 60 s of scans
//   npm run fleet-sim -- --gates 20 --url mqtt://broker:1883 --seconds 300 --scan-rate 2
//   npm run fleet-sim:short                          5 gates for 5 s (CI)
//
// `--help` lists the options; scripts/fleet-sim-args.mjs checks them before anything starts.
// Reports what an operations subscriber receives (messages per second), the broker round trip
// of a probe (publish → receive, QoS 1), the time until every gate is online, and RSS.
// However it ends (done, a failure, SIGINT, SIGTERM), the workers and the mosquitto it started
// are stopped and its temporary folders removed.

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
const { USAGE, parseArgs } = await import('./fleet-sim-args.mjs');
const { redactUrl } = await import('../dist/link/client-options.js');
const { isRidergateError } = await import('../dist/errors.js');
const { mosquittoMissing, startMosquitto } = await import('./bench/broker.mjs');
const { buildReport, print, sum } = await import('./fleet-sim-report.mjs');

const PROBE_EVERY_MS = 100;
const ONLINE_TIMEOUT_MS = 300_000;
/** How long the operations client waits for the broker's CONNACK before giving up. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a stop waits for the workers and mosquitto to exit after being signalled. */
const STOP_WAIT_MS = 3_000;

/** Child processes to end however the simulator stops: mosquitto and the workers. */
const children = [];
/** Temporary folders (keys, stores, the broker's configuration), removed however it ends. */
const tempDirs = [];
let stopping = false;

/**
 * Ends the run with one line on stderr: kills the workers and mosquitto, waits (briefly) until
 * they are gone, removes the temporary folders and exits with `code`. Runs once; a second call
 * (a worker's exit during the stop, a second Ctrl-C) only waits for the first.
 */
async function fail(message, code = 2) {
  if (stopping) return new Promise(() => {});
  stopping = true;
  process.stderr.write(`fleet-sim: ${message}\n`);
  try {
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    const exited = running.map((c) => new Promise((resolve) => c.once('exit', resolve)));
    for (const child of running) child.kill('SIGKILL');
    await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, STOP_WAIT_MS))]);
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  } finally {
    process.exit(code);
  }
}

process.once('SIGINT', () => fail('interrupted (SIGINT)', 130));
process.once('SIGTERM', () => fail('stopped (SIGTERM)', 143));
// Anything unforeseen still ends as one line, with the workers and mosquitto stopped.
process.on('uncaughtException', (err) => fail(oneLine(err), 1));
process.on('unhandledRejection', (err) => fail(oneLine(err), 1));

function oneLine(err) {
  return String(err?.message ?? err).split('\n')[0];
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

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
  const client = await connectOps(url);
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

/**
 * Connects the operations client, giving up on the first failure (no retries): the broker that
 * cannot be reached is one line naming the URL and the reason, not a hang or a stack.
 */
async function connectOps(url) {
  const options = {
    clientId: `fleet-sim-ops-${process.pid}`,
    clean: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
  };
  let client;
  try {
    client = await mqtt.connectAsync(url, options, false);
  } catch (err) {
    // Without an error (a closed socket, no CONNACK in time) mqtt.js says "Couldn't connect".
    const reason =
      err?.code === undefined && /couldn't connect/i.test(err?.message ?? '')
        ? `no MQTT connection within ${CONNECT_TIMEOUT_MS / 1000} s (closed or no answer)`
        : oneLine(err);
    return fail(`cannot connect to ${redactUrl(url)}: ${reason}`, 1);
  }
  // Later errors (a lost connection) are retried by mqtt.js; the report shows what arrived.
  client.on('error', () => {});
  return client;
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
      if (m.type === 'failed') void fail(`worker ${w} failed: ${m.error}`, 1);
    });
    child.on('exit', (code, signal) => {
      if (!worker.stopped && code !== 0) void fail(`worker ${w} exited with ${code ?? signal}`, 1);
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

async function main() {
  const opts = options(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-fleet-sim-'));
  tempDirs.push(dir);
  const broker = opts.url === undefined ? await startBroker(opts) : undefined;
  const url = opts.url ?? broker.url;
  const ops = await startOps(url, opts.prefix);
  const keys = await provision(dir);
  const against = broker ? 'a local mosquitto' : redactUrl(url);
  say(
    opts,
    `fleet-sim: ${plural(opts.gates, 'gate')} in ${plural(opts.workers, 'worker process', 'worker processes')} against ${against}`,
  );
  say(
    opts,
    `watch it: node dist/cli/main.js watch --url ${redactUrl(url)} --prefix ${opts.prefix}`,
  );
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
      ? `all ${plural(opts.gates, 'gate')} online after ${connectSec.toFixed(1)} s`
      : `only ${plural(ops.fleet.list().filter((g) => g.state === 'online').length, 'gate')} of ${opts.gates} online after ${connectSec.toFixed(1)} s`,
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
  stopping = true; // from here on a worker's or mosquitto's exit is expected
  for (const w of workers) if (!w.stopped) w.child.kill('SIGKILL');
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
  print(opts, report);
}

/** The checked flags; --help prints the usage and exits 0, a bad flag is one line and exit 2. */
function options(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (!isRidergateError(err) || err.code !== 'usage') throw err;
    // Nothing has started yet: nothing to stop.
    process.stderr.write(`fleet-sim: ${err.message}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  return opts;
}

/** The local mosquitto, registered for the stop as soon as it is spawned. */
async function startBroker(opts) {
  const missing = mosquittoMissing();
  if (missing !== undefined) await fail(`${missing}; or give a broker with --url`, 1);
  const broker = await startMosquitto({
    // A fleet needs more connections and queued messages than the defaults allow.
    config: ['max_connections -1', 'max_queued_messages 10000'],
    ws: opts.ws,
    onSpawn: ({ child, dir }) => {
      children.push(child);
      tempDirs.push(dir);
    },
  }).catch((err) => fail(oneLine(err), 1));
  broker.child.once('exit', (code, signal) => {
    if (!stopping) void fail(`mosquitto exited with ${code ?? signal} during the run`, 1);
  });
  return broker;
}

await main().catch((err) => fail(oneLine(err), 1));

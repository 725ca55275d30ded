import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { GateEvent } from '../../src/event.js';
import { type JournalRow, readJournal } from '../../src/store/journal-reader.js';
import { readPrivateKey } from '../../src/token/keys.js';
import {
  DaemonRun,
  drainPty,
  type LevelChange,
  type LevelSampler,
  levelAt,
  pairPulsesWithRows,
  pause,
  risingEdges,
  ScanMix,
  ScanWriter,
  seqProblems,
  startLevelSampler,
} from '../helpers/crash-harness.js';
import { cliPath, writeIssuerAndTrust } from '../helpers/daemon.js';
import { mountNamespaceUnavailable, writeFakeSysfsTree } from '../helpers/fake-sysfs.js';
import { type Mosquitto, mosquittoMissing, startMosquitto } from '../helpers/mosquitto.js';
import { PtyPair, socatAvailable, waitUntil } from '../helpers/pty.js';

// Issue 4's kill test with field cases G3 (the process dies mid-pulse) and L1 (SIGTERM
// mid-pulse): the real daemon, the onoff relay on a fake sysfs tree that outlives every
// process, scans over a socat pty, a real mosquitto. SIGKILL at random moments, then: every
// pulse has its journal row, every journaled event reached the broker, seqs are 1..N.

/**
 * SIGKILLs in the run; CRASH_KILLS overrides it (a longer soak, or a quick look). CRASH_CLI
 * runs another build of dist/cli/main.js (e.g. one broken on purpose, to see the test fail).
 */
const KILLS = Number(process.env.CRASH_KILLS ?? 200);
const CHIP = { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 };
const PIN = 17;
const LINE = CHIP.base + PIN;
// Long enough for the 1 ms sampler never to miss one, short enough that pulses rarely merge.
const PULSE_MS = 150;
// Short, so that the run sees both `reopen` (again within it) and `replayed` (after it).
const REOPEN_GRACE_SEC = 5;
// A decision is journaled before the relay moves: the rise follows its row (stamped when the
// decision starts) within this time; tens of ms, generous for a 2-core CI machine busy with
// restarts. Shorter would pair more strictly; longer lets an unpulsed row hide an orphan.
const ROW_TO_PULSE_MS = 1_500;
const L1_PULSE_MS = 3_000;
const SITE = 'site-a';
const GATE = 'gate-1';
const ISS = 'test-eats';

const skipReason =
  mountNamespaceUnavailable() ??
  mosquittoMissing() ??
  (socatAvailable() ? undefined : 'socat is not installed (apt install socat)');
if (skipReason !== undefined) console.warn(`crash-safety test skipped: ${skipReason}`);

/** Where in a daemon's life a SIGKILL lands. */
type KillMode = 'starting' | 'running' | 'mid-pulse' | 'mid-decision';

function pickMode(): KillMode {
  const r = Math.random();
  if (r < 0.2) return 'starting';
  if (r < 0.55) return 'running';
  if (r < 0.8) return 'mid-pulse';
  return 'mid-decision';
}

function between(fromMs: number, toMs: number): number {
  return fromMs + Math.random() * (toMs - fromMs);
}

/** What the operations subscriber received on the gate's topics. */
class Subscriber {
  readonly events = new Map<string, GateEvent>();
  deliveries = 0;
  /** Ids delivered twice with different content (other than the `replay` flag). */
  readonly conflicting: string[] = [];
  readonly statuses: string[] = [];

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.take(topic, payload.toString()));
  }

  private take(topic: string, payload: string): void {
    if (topic.endsWith('/status')) this.statuses.push(payload);
    if (!topic.endsWith('/events')) return;
    const event = JSON.parse(payload) as GateEvent;
    this.deliveries += 1;
    const before = this.events.get(event.id);
    // `replay` says how this delivery came (from a backlog); the event itself must not change.
    if (
      before !== undefined &&
      JSON.stringify(withoutReplay(before)) !== JSON.stringify(withoutReplay(event))
    )
      this.conflicting.push(event.id);
    this.events.set(event.id, event);
  }
}

function withoutReplay(event: GateEvent): Omit<GateEvent, 'replay'> {
  const { replay: _replay, ...rest } = event;
  return rest;
}

/** The gate under test: its files, the scans shown to it and every run of its daemon. */
class Bench {
  readonly runs: DaemonRun[] = [];
  readonly unexpectedExits: string[] = [];
  scansSent = 0;
  private scanning = false;
  private scanLoop: Promise<void> = Promise.resolve();

  constructor(
    readonly configFile: string,
    readonly classDir: string,
    readonly writer: ScanWriter,
    readonly sampler: LevelSampler,
    readonly mix: ScanMix,
  ) {}

  get current(): DaemonRun | undefined {
    return this.runs.at(-1);
  }

  start(env?: NodeJS.ProcessEnv): DaemonRun {
    const cli = process.env.CRASH_CLI ?? cliPath();
    const run = new DaemonRun(cli, this.configFile, this.classDir, env);
    this.runs.push(run);
    return run;
  }

  /** Waits for the 'gate ready' line. @throws when the daemon exited before it. */
  async ready(run: DaemonRun): Promise<void> {
    await waitUntil(() => run.loggedAtMs('gate ready') !== undefined || !run.alive(), 'ready', {
      timeoutMs: 30_000,
      intervalMs: 5,
    });
    if (run.loggedAtMs('gate ready') === undefined)
      throw new Error(`the gate exited before it was ready: ${run.out.stderr().slice(0, 500)}`);
  }

  /** Shows one scan: `text`, or the next of the mix. */
  show(text?: string): boolean {
    const sent = this.writer.write(text ?? this.mix.next().text);
    if (sent) this.scansSent += 1;
    return sent;
  }

  /**
   * Shows a scan every 200–450 ms whenever a daemon is ready. Not while one starts: the serial
   * port is flushed when it is opened, so what is shown then is lost anyway.
   */
  startScanning(): void {
    this.scanning = true;
    this.scanLoop = (async () => {
      while (this.scanning) {
        const run = this.current;
        if (run?.alive() === true && run.loggedAtMs('gate ready') !== undefined) this.show();
        await pause(between(200, 450));
      }
    })();
  }

  async stopScanning(): Promise<void> {
    this.scanning = false;
    await this.scanLoop;
  }

  /** Starts the daemon and SIGKILLs it at a random moment of the given kind. */
  async killOnce(mode: KillMode): Promise<void> {
    const run = this.start();
    if (mode === 'starting') {
      await pause(between(0, 700));
    } else {
      await this.ready(run);
      if (mode === 'running') await pause(between(0, 1_500));
      if (mode === 'mid-pulse') {
        this.show(this.mix.fresh());
        await waitUntil(() => this.sampler.level() === '1' || !run.alive(), 'relay active', {
          timeoutMs: 3_000,
          intervalMs: 2,
        }).catch(() => undefined);
        await pause(between(0, PULSE_MS * 0.8));
      }
      if (mode === 'mid-decision') {
        this.show(this.mix.fresh());
        await pause(between(0, 40));
      }
    }
    if (!run.alive())
      this.unexpectedExits.push(`exit ${run.child.exitCode}: ${run.out.stderr().slice(0, 500)}`);
    await run.kill();
  }

  /** What the current run logged, for a failure message. */
  describeCurrent(): string {
    const run = this.current;
    const lines = run?.out.lines.map((l) => [l.time, l.msg, l.decision, l.reason, l.err]);
    return JSON.stringify({
      levels: this.sampler.changes.slice(-6),
      spawnedAtMs: run?.spawnedAtMs,
      lines,
      stderr: run?.out.stderr(),
    });
  }
}

describe.skipIf(skipReason !== undefined)('crash safety: SIGKILL at random moments', () => {
  let dir: string;
  let broker: Mosquitto;
  let ops: Subscriber;
  let pty: PtyPair;
  let writer: ScanWriter;
  let sampler: LevelSampler;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-crash-'));
    broker = await startMosquitto();
    const client = await mqtt.connectAsync(broker.url, { clientId: 'ops-crash', clean: false });
    ops = new Subscriber(client);
    await client.subscribeAsync(`ridergate/v1/${SITE}/${GATE}/#`, { qos: 1 });
    mkdirSync(join(dir, 'pty'));
    pty = new PtyPair(join(dir, 'pty'));
    await pty.start();
    // socat stays up across every restart: the test holds its end, the daemon reopens its own.
    writer = new ScanWriter(pty.b);
  });

  afterAll(async () => {
    await sampler?.stop().catch(() => undefined);
    writer?.close();
    await pty?.stop();
    await ops?.client.endAsync();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function makeBench(store: string): Promise<Bench> {
    const classDir = writeFakeSysfsTree(join(dir, 'sys-class'), { chips: [CHIP], lines: [LINE] });
    sampler = startLevelSampler(join(classDir, 'gpio', `gpio${LINE}`, 'value'), 1);
    const issuer = await writeIssuerAndTrust(dir, ISS);
    const configFile = join(dir, 'gate.yaml');
    writeFileSync(
      configFile,
      stringify({
        gate: { site: SITE, id: GATE },
        scanner: { driver: 'serial', path: pty.a, reconnectMinMs: 50, reconnectMaxMs: 500 },
        relay: { driver: 'onoff', pin: PIN, activeLow: false, pulseMs: PULSE_MS },
        store: { path: store },
        mqtt: { url: broker.url },
        trust: { file: issuer.trustFile, rootKeyFile: issuer.rootKeyFile },
        policy: { reopenGraceSec: REOPEN_GRACE_SEC },
      }),
    );
    const mix = new ScanMix({
      privateKey: readPrivateKey(issuer.privateFile).key,
      kid: issuer.kid,
      iss: ISS,
      site: SITE,
      reopenGraceSec: REOPEN_GRACE_SEC,
    });
    return new Bench(configFile, classDir, writer, sampler, mix);
  }

  /** L1: SIGTERM while a long pulse runs. Returns how long the relay stayed active after it. */
  async function sigtermMidPulse(bench: Bench): Promise<number> {
    const run = bench.start({ RIDERGATE_RELAY_PULSE_MS: String(L1_PULSE_MS) });
    await bench.ready(run);
    await waitUntil(() => sampler.level() === '0', 'relay inactive after a start (G3)', {
      timeoutMs: 10_000,
    });
    expect(bench.show(bench.mix.fresh())).toBe(true);
    await waitUntil(() => sampler.level() === '1', 'relay active', { timeoutMs: 5_000 });
    const termAt = Date.now();
    run.child.kill('SIGTERM');
    await waitUntil(() => sampler.level() === '0', 'relay inactive after SIGTERM', {
      timeoutMs: 2_000,
      intervalMs: 2,
    });
    const restMs = Date.now() - termAt;
    expect(restMs).toBeLessThan(L1_PULSE_MS / 2);
    expect(await run.exit).toBe(0);
    expect(Date.now() - termAt).toBeLessThan(10_000);
    expect(run.logged('scan decided').some((l) => l.decision === 'admit')).toBe(true);
    await waitUntil(() => ops.statuses.at(-1)?.includes('"offline"') === true, 'offline status');
    return restMs;
  }

  /** The last start: waits until the outbox is empty, then stops the daemon cleanly. */
  async function drainAndStop(bench: Bench, store: string): Promise<void> {
    const run = bench.start();
    await bench.ready(run);
    const deadline = performance.now() + 60_000;
    while ((await journal(store)).some((r) => r.deliveredAt === undefined)) {
      if (performance.now() > deadline) throw new Error('timed out: the outbox did not drain');
      await pause(100);
    }
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  }

  it(
    `journals every pulse and delivers every event across ${KILLS} SIGKILLs (G3, L1)`,
    async () => {
      const began = performance.now();
      const store = join(dir, 'gate.db');
      const bench = await makeBench(store);
      const modes = new Map<KillMode, number>();
      let killPhaseMs = 0;
      let l1RestMs = 0;
      let staleBytes = 0;
      try {
        bench.startScanning();
        for (let kills = 0; kills < KILLS; kills += 1) {
          const mode = pickMode();
          modes.set(mode, (modes.get(mode) ?? 0) + 1);
          await bench.killOnce(mode);
        }
        killPhaseMs = performance.now() - began;
        await bench.stopScanning();
        // Scans the pty still holds would open the barrier for 3 s at the next start.
        staleBytes = await drainPty(pty.a);
        l1RestMs = await sigtermMidPulse(bench);
        await drainAndStop(bench, store);
      } catch (err) {
        console.log(`crash-safety failed; the last run: ${bench.describeCurrent()}`);
        throw err;
      } finally {
        await bench.stopScanning();
        for (const run of bench.runs) await run.kill();
      }
      const stats = await sampler.stop();
      const changes = sampler.changes;
      expect(levelAt(changes, Date.now())).toBe('0');
      expect(bench.unexpectedExits).toEqual([]);

      const rows = await journal(store);
      const delivery = await checkDelivery(rows, store);
      const logged = checkLoggedDecisions(bench, rows);
      const pulses = checkPulses(changes, rows);
      const g3 = checkG3(bench.runs, changes);
      const count = (type: string) => rows.filter((r) => r.event.type === type).length;
      console.log(
        `crash-safety ${JSON.stringify({
          durationSec: Math.round((performance.now() - began) / 1000),
          killPhaseSec: Math.round(killPhaseMs / 1000),
          kills: KILLS,
          starts: bench.runs.length,
          modes: Object.fromEntries(modes),
          scansSent: bench.scansSent,
          scansDropped: writer.dropped,
          scanMix: Object.fromEntries(bench.mix.counts),
          decisionsLogged: logged,
          rows: rows.length,
          admit: count('admit'),
          reopen: count('reopen'),
          deny: count('deny'),
          boot: count('boot'),
          alarm: count('alarm'),
          ...pulses,
          ...delivery,
          ...g3,
          l1RestMs,
          staleBytes,
          sampler: { ...stats, maxGapMs: Math.round(stats.maxGapMs) },
        })}`,
      );
    },
    20 * 60_000,
  );

  /** Every journaled event reached the broker; journal and broker seqs are both 1..N. */
  async function checkDelivery(rows: JournalRow[], store: string) {
    const seqs = rows.map((r) => r.event.seq);
    expect(seqProblems(seqs)).toEqual({ missing: [], repeated: [] });
    expect(rows.filter((r) => r.deliveredAt === undefined)).toEqual([]);
    await waitUntil(() => ops.events.size >= rows.length, 'every event at the subscriber', {
      timeoutMs: 10_000,
    });
    expect(ops.conflicting).toEqual([]);
    expect([...ops.events.keys()].sort()).toEqual(rows.map((r) => r.event.id).sort());
    const wrongSeq = rows.filter((r) => ops.events.get(r.event.id)?.seq !== r.event.seq);
    expect(wrongSeq).toEqual([]);
    expect(seqProblems([...ops.events.values()].map((e) => e.seq))).toEqual({
      missing: [],
      repeated: [],
    });
    const seqCeiling = Number(readFileSync(`${store}.seq`, 'utf8').trim());
    expect(seqCeiling).toBeGreaterThanOrEqual(rows.length);
    return {
      deliveries: ops.deliveries,
      duplicateDeliveries: ops.deliveries - ops.events.size,
      seqCeiling,
    };
  }
});

/** Every decision a daemon logged is in the journal (the line is written after the commit). */
function checkLoggedDecisions(bench: Bench, rows: JournalRow[]): number {
  const journaled = new Set(rows.map((r) => r.event.seq));
  const logged = bench.runs.flatMap((r) => r.logged('scan decided').map((l) => Number(l.seq)));
  expect(logged.filter((seq) => !journaled.has(seq))).toEqual([]);
  return logged.length;
}

/**
 * Every pulse has its journal row, made before it: no more rises than admit and reopen rows,
 * and each rise paired with a distinct row made at most ROW_TO_PULSE_MS before it.
 */
function checkPulses(changes: readonly LevelChange[], rows: JournalRow[]) {
  const opens = rows.filter((r) => r.event.type === 'admit' || r.event.type === 'reopen');
  const edges = risingEdges(changes);
  expect(edges.length).toBeGreaterThan(KILLS / 4);
  expect(edges.length).toBeLessThanOrEqual(opens.length);
  // A rise seen by `atMs` (whole ms) happened before atMs + 1.
  const { unmatched, lagsMs } = pairPulsesWithRows(
    edges.map((e) => e + 1),
    opens.map((r) => r.event.ts),
    ROW_TO_PULSE_MS,
  );
  expect(unmatched.map((ms) => new Date(ms).toISOString())).toEqual([]);
  // How soon each rise followed the nearest row before it (the pairing above may pair a rise
  // with an older row when a row's own pulse was cut by a kill).
  const times = opens.map((r) => r.event.ts).sort((a, b) => a - b);
  const nearest = edges
    .map((e) => e + 1 - (times.findLast((t) => t <= e + 1) ?? Number.NaN))
    .sort((a, b) => a - b);
  return {
    pulses: edges.length,
    opensWithoutSeenPulse: opens.length - edges.length,
    pairedLagMaxMs: Math.max(...lagsMs),
    nearestRowToPulseMs: {
      p50: nearest[Math.floor(nearest.length / 2)],
      p99: nearest[Math.floor(nearest.length * 0.99)],
      max: nearest.at(-1),
    },
  };
}

/**
 * G3: each start that found the relay active (left so by a SIGKILL) drove it inactive before
 * anything else: the relay reads inactive before the 'gate ready' line.
 */
function checkG3(runs: DaemonRun[], changes: readonly LevelChange[]) {
  const results = runs
    .filter((r) => levelAt(changes, r.spawnedAtMs) === '1')
    .map((r) => g3Check(r, changes))
    .filter((c) => c !== undefined);
  expect(results.filter((c) => c.broken).map((c) => c.detail)).toEqual([]);
  const seen = results.filter((c) => c.before);
  expect(seen.length).toBeGreaterThan(KILLS / 20);
  const margins = seen.map((c) => c.marginMs);
  return {
    g3Starts: results.length,
    g3SeenBeforeReady: seen.length,
    g3MarginMs: { min: Math.min(...margins), max: Math.max(...margins) },
  };
}

/** How a start that found the relay active behaved (G3). */
interface G3Result {
  /** The relay was seen inactive before the 'gate ready' line. */
  before: boolean;
  /** No fall, or a sample begun after 'gate ready' still read active: the rule was broken. */
  broken: boolean;
  /** 'gate ready' time minus the time the sampler saw the relay inactive, ms. */
  marginMs: number;
  detail: string;
}

/**
 * For a start that found the relay active: the first change after the spawn must be to '0'
 * and come before the 'gate ready' line. When the sampler was held up across that line the
 * order cannot be told (neither `before` nor `broken`). Undefined when the start was killed
 * before it was ready.
 */
function g3Check(run: DaemonRun, changes: readonly LevelChange[]): G3Result | undefined {
  const readyMs = run.loggedAtMs('gate ready');
  if (readyMs === undefined) return undefined;
  const first = changes.find((c) => c.atMs >= run.spawnedAtMs);
  const fell = first !== undefined && first.level === '0';
  return {
    before: fell && first.atMs < readyMs,
    broken: !fell || first.sinceMs > readyMs,
    marginMs: first === undefined ? Number.NaN : readyMs - first.atMs,
    detail: `spawned ${run.spawnedAtMs}, ready ${readyMs}, first change ${JSON.stringify(first)}`,
  };
}

async function journal(path: string): Promise<JournalRow[]> {
  const rows: JournalRow[] = [];
  for await (const row of readJournal(path)) rows.push(row);
  return rows;
}

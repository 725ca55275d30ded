import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { issueToken } from '../../src/token/issue.js';
import { collectOutput, exited, type LogLine } from './daemon.js';
import { spawnWithBoundSysfs } from './fake-sysfs.js';

/**
 * One change of a GPIO value file as the sampler saw it, in wall time (Date.now, whole ms):
 * the sample before it, which still read the old level, began at `sinceMs`; the sample that
 * read the new level ended at `atMs`. The change happened between the two.
 */
export interface LevelChange {
  level: string;
  atMs: number;
  sinceMs: number;
}

/** How well the sampler kept up: a gap longer than a pulse could hide that pulse. */
export interface SamplerStats {
  samples: number;
  maxGapMs: number;
  gapsOver20Ms: number;
  /** How the sampling thread was scheduled: `SCHED_FIFO 20`, `nice -20` or `default`. */
  scheduling: string;
}

/** A value file sampled in a worker thread, so the test's own work never delays a sample. */
export interface LevelSampler {
  /** Every change seen so far (appended as the worker reports them). */
  readonly changes: LevelChange[];
  /** The last level seen, undefined before the first sample. */
  level(): string | undefined;
  /** Stops sampling; resolves once every change has been reported. */
  stop(): Promise<SamplerStats>;
}

// Plain JavaScript run by the worker: raise its own thread's priority (real-time when allowed,
// else the highest nice value) so a busy machine does not starve it, then pread the first byte
// of the file every intervalMs and report each change with its wall time and that of the
// sample before it, until the shared flag is set.
const SAMPLER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync, readlinkSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const { setPriority } = require('node:os');
let scheduling = 'default';
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (spawnSync('chrt', ['-f', '-p', '20', String(tid)], { stdio: 'ignore' }).status === 0) {
    scheduling = 'SCHED_FIFO 20';
  } else {
    setPriority(tid, -20);
    scheduling = 'nice -20';
  }
} catch {}
const stop = new Int32Array(workerData.stop);
const nap = new Int32Array(new SharedArrayBuffer(4));
const fd = openSync(workerData.file, 'r');
const byte = Buffer.alloc(1);
let last;
let samples = 0;
let maxGapMs = 0;
let gapsOver20Ms = 0;
let previous = performance.now();
let previousWall = Date.now();
while (Atomics.load(stop, 0) === 0) {
  const before = Date.now();
  const n = readSync(fd, byte, 0, 1, 0);
  const now = performance.now();
  if (samples > 0) {
    maxGapMs = Math.max(maxGapMs, now - previous);
    if (now - previous > 20) gapsOver20Ms += 1;
  }
  samples += 1;
  const level = n === 1 ? String.fromCharCode(byte[0]) : '';
  if (level !== last) {
    last = level;
    parentPort.postMessage({ level, atMs: Date.now(), sinceMs: previousWall });
  }
  previous = now;
  previousWall = before;
  Atomics.wait(nap, 0, 0, workerData.intervalMs);
}
closeSync(fd);
parentPort.postMessage({ done: true, samples, maxGapMs, gapsOver20Ms, scheduling });
`;

/**
 * Samples the value file `file` (on the host) every `intervalMs` in a worker thread, as a
 * logic analyser on the relay line would, across any number of daemon restarts.
 */
export function startLevelSampler(file: string, intervalMs = 1): LevelSampler {
  const stopFlag = new SharedArrayBuffer(4);
  const worker = new Worker(SAMPLER_SOURCE, {
    eval: true,
    workerData: { file, intervalMs, stop: stopFlag },
  });
  const changes: LevelChange[] = [];
  const done = new Promise<SamplerStats>((resolve, reject) => {
    worker.on('message', (m: LevelChange | ({ done: true } & SamplerStats)) => {
      if ('done' in m) {
        const { done: _, ...stats } = m;
        resolve(stats);
      } else changes.push(m);
    });
    worker.once('error', reject);
    worker.once('exit', () => reject(new Error('level sampler exited early')));
  });
  return {
    changes,
    level: () => changes.at(-1)?.level,
    stop: async () => {
      Atomics.store(new Int32Array(stopFlag), 0, 1);
      const stats = await done;
      await worker.terminate();
      return stats;
    },
  };
}

/** The level in force at `atMs` according to `changes` (sorted by time). */
export function levelAt(changes: readonly LevelChange[], atMs: number): string | undefined {
  let level: string | undefined;
  for (const c of changes) {
    if (c.atMs > atMs) break;
    level = c.level;
  }
  return level;
}

/** Wall times at which the line went from inactive ('0') to active ('1'). */
export function risingEdges(changes: readonly LevelChange[]): number[] {
  const edges: number[] = [];
  let previous = '0';
  for (const c of changes) {
    if (c.level === '1' && previous !== '1') edges.push(c.atMs);
    previous = c.level;
  }
  return edges;
}

/**
 * Pairs each rising edge with a distinct journal row made at most `windowMs` before it
 * (earliest row first, which pairs as many edges as any pairing can).
 * @returns `unmatched`: the edges that found no row, pulses with no journaled decision before
 * them; `lagsMs`: for the paired edges, edge time minus row time.
 */
export function pairPulsesWithRows(
  edgesMs: readonly number[],
  rowTsMs: readonly number[],
  windowMs: number,
): { unmatched: number[]; lagsMs: number[] } {
  const rows = [...rowTsMs].sort((a, b) => a - b);
  const unmatched: number[] = [];
  const lagsMs: number[] = [];
  let next = 0;
  for (const edge of [...edgesMs].sort((a, b) => a - b)) {
    while (next < rows.length && (rows[next] ?? 0) < edge - windowMs) next += 1;
    const row = rows[next];
    if (row !== undefined && row <= edge) {
      lagsMs.push(edge - row);
      next += 1;
    } else unmatched.push(edge);
  }
  return { unmatched, lagsMs };
}

/** Where `seqs` (sorted or not) differ from 1..n: missing numbers and repeated ones. */
export function seqProblems(seqs: readonly number[]): { missing: number[]; repeated: number[] } {
  const seen = new Set<number>();
  const repeated: number[] = [];
  for (const s of seqs) {
    if (seen.has(s)) repeated.push(s);
    seen.add(s);
  }
  const top = Math.max(0, ...seqs);
  const missing: number[] = [];
  for (let s = 1; s <= top; s += 1) if (!seen.has(s)) missing.push(s);
  return { missing, repeated };
}

/**
 * Writes scans to the test's end of a pty pair without ever blocking: while no daemon reads,
 * the pty buffers fill, and a scan that does not fit is dropped (counted) instead of
 * stalling the test. Holding the end open also keeps socat up across daemon restarts.
 */
export class ScanWriter {
  private readonly fd: number;
  dropped = 0;

  constructor(path: string) {
    this.fd = openSync(path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  }

  /** Writes `text` and a CR; false when the pty had no room (the scan is lost, or cut). */
  write(text: string): boolean {
    const bytes = Buffer.from(`${text}\r`, 'latin1');
    try {
      if (writeSync(this.fd, bytes) === bytes.length) return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    this.dropped += 1;
    return false;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** What kind of scan {@link ScanMix.next} made. */
export type ScanKind = 'fresh' | 'again' | 'late' | 'forged' | 'expired' | 'other-site' | 'garbage';

/** Who signs the tokens and for which site; the re-entry grace of the gate under test. */
export interface ScanMixOptions {
  privateKey: KeyObject;
  kid: string;
  iss: string;
  site: string;
  reopenGraceSec: number;
  /** Random numbers in [0, 1); Math.random by default. */
  random?: () => number;
}

/**
 * A stream of scans like a busy gate sees: mostly fresh valid tokens (each its own cti, issued
 * just before it is shown, so none expires however long the run), the same token shown again
 * within the re-entry grace (a `reopen`) or after it (`replayed`), and invalid ones (forged,
 * expired, for another site, not a token).
 */
export class ScanMix {
  readonly counts = new Map<ScanKind, number>();
  private readonly forger = generateKeyPairSync('ed25519').privateKey;
  private readonly shown: { text: string; atMs: number }[] = [];
  private readonly random: () => number;
  private serial = 0;

  constructor(private readonly options: ScanMixOptions) {
    this.random = options.random ?? Math.random;
  }

  /** A valid token for the site, issued now. */
  fresh(nowMs = Date.now()): string {
    this.count('fresh');
    const text = this.token({}, this.options.privateKey, nowMs);
    this.shown.push({ text, atMs: nowMs });
    if (this.shown.length > 400) this.shown.shift();
    return text;
  }

  /** The next scan of the mix. */
  next(nowMs = Date.now()): { kind: ScanKind; text: string } {
    const r = this.random();
    const graceMs = this.options.reopenGraceSec * 1000;
    // The scanner drops the same text again within its 1.5 s de-duplication window.
    const again = r < 0.15 ? this.pickShown(nowMs - graceMs + 1_000, nowMs - 1_700) : undefined;
    const late =
      r >= 0.15 && r < 0.22 ? this.pickShown(nowMs - 60_000, nowMs - graceMs - 1_500) : undefined;
    let made: { kind: ScanKind; text: string };
    if (again !== undefined) made = { kind: 'again', text: again };
    else if (late !== undefined) made = { kind: 'late', text: late };
    else if (r >= 0.22 && r < 0.26) made = { kind: 'forged', text: this.token({}, this.forger) };
    else if (r >= 0.26 && r < 0.3) made = { kind: 'expired', text: this.token({ ageSec: 600 }) };
    else if (r >= 0.3 && r < 0.33)
      made = { kind: 'other-site', text: this.token({ site: 'elsewhere' }) };
    else if (r >= 0.33 && r < 0.37) made = { kind: 'garbage', text: this.garbage() };
    else return { kind: 'fresh', text: this.fresh(nowMs) };
    this.count(made.kind);
    return made;
  }

  private count(kind: ScanKind): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  private pickShown(fromMs: number, toMs: number): string | undefined {
    const fits = this.shown.filter((s) => s.atMs >= fromMs && s.atMs <= toMs);
    return fits[Math.floor(this.random() * fits.length)]?.text;
  }

  private token(
    change: { ageSec?: number; site?: string },
    key = this.options.privateKey,
    nowMs = Date.now(),
  ): string {
    this.serial += 1;
    const iat = Math.floor(nowMs / 1000) - (change.ageSec ?? 0);
    return issueToken({
      privateKey: key,
      kid: this.options.kid,
      alg: 'EdDSA',
      claims: {
        iss: this.options.iss,
        sub: `rider-${this.serial}`,
        iat,
        exp: iat + 120,
        sites: [change.site ?? this.options.site],
      },
    }).text;
  }

  private garbage(): string {
    this.serial += 1;
    return `https://example.com/menu?table=${this.serial}`;
  }
}

/** One run of the daemon, from spawn to exit. */
export class DaemonRun {
  readonly child: ChildProcess;
  readonly out: { lines: LogLine[]; stderr: () => string };
  /** Wall time just before the spawn. */
  readonly spawnedAtMs: number;
  readonly exit: Promise<number | null>;

  /**
   * Spawns `node dist/cli/main.js run --config configFile` in its own mount namespace with
   * `classDir` bound over /sys/class.
   */
  constructor(cli: string, configFile: string, classDir: string, env?: NodeJS.ProcessEnv) {
    this.spawnedAtMs = Date.now();
    this.child = spawnWithBoundSysfs(
      [process.execPath, cli, 'run', '--config', configFile],
      classDir,
      env === undefined ? {} : { env: { ...process.env, ...env } },
    );
    this.out = collectOutput(this.child);
    this.exit = exited(this.child);
  }

  /** True until the process has exited. */
  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Wall time of the first log line with `msg`, from its pino `time`; undefined if none. */
  loggedAtMs(msg: string): number | undefined {
    const line = this.out.lines.find((l) => l.msg === msg);
    return typeof line?.time === 'string' ? Date.parse(line.time) : undefined;
  }

  /** Log lines with `msg`. */
  logged(msg: string): LogLine[] {
    return this.out.lines.filter((l) => l.msg === msg);
  }

  /** SIGKILL, and wait for the exit. */
  async kill(): Promise<void> {
    if (this.alive()) this.child.kill('SIGKILL');
    await this.exit;
  }
}

/** Resolves after `ms` (for the random moments of a kill, not for waiting on a condition). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reads and discards what the pty end `path` holds, while no daemon has it open.
 * @returns the number of bytes dropped.
 */
export async function drainPty(path: string): Promise<number> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  const buffer = Buffer.alloc(4096);
  let total = 0;
  let quiet = 0;
  try {
    // Two empty reads 20 ms apart: socat has passed on everything written before.
    while (quiet < 2) {
      let n = 0;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      total += n;
      if (n > 0) quiet = 0;
      else {
        quiet += 1;
        await pause(20);
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

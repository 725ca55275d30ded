import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliPath, exited } from '../helpers/daemon.js';
import { freePort, mosquittoMissing } from '../helpers/mosquitto.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'scripts', 'fleet-sim.mjs');

interface SimReport {
  gates: number;
  workers: number;
  allOnline: boolean;
  scansFed: number;
  eventsReceived: number;
  messagesPerSec: number;
  admits: number;
  denials: Record<string, number>;
  rttMs: { n: number; p50: number | null; p99: number | null };
  rssMb: { simulator: number; mosquitto: number | null };
  offlineAfterStop: number;
}

/**
 * A private TMPDIR for the simulator's folders (its own and its mosquitto's configuration):
 * what it leaves behind, and any process still naming a path in it, belong to this run only.
 */
let simTmp = '';
beforeEach(() => {
  simTmp = mkdtempSync(join(tmpdir(), 'ridergate-fleet-sim-test-'));
});
afterEach(() => {
  rmSync(simTmp, { recursive: true, force: true });
});

function runSim(args: string[]) {
  cliPath(); // the simulator runs the built code: fail clearly when it is missing
  return spawnSync(process.execPath, [script, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, TMPDIR: simTmp },
  });
}

/** Processes whose command line names the private TMPDIR: mosquitto (its config) and workers. */
function leftRunning(): string {
  return spawnSync('pgrep', ['-af', simTmp], { encoding: 'utf8' }).stdout.trim();
}

/** What the run left behind: no folder in the private TMPDIR and no process naming it. */
function leftovers(): { folders: string[]; processes: string } {
  return { folders: readdirSync(simTmp), processes: leftRunning() };
}

const nothingLeft = { folders: [], processes: '' };

describe.skipIf(mosquittoMissing() !== undefined)('npm run fleet-sim', () => {
  it('runs 6 real gates in two worker processes against its own mosquitto and reports', () => {
    const run = runSim([
      '--gates',
      '6',
      '--workers',
      '2',
      '--seconds',
      '4',
      '--scan-rate',
      '120',
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as SimReport;
    expect(report).toMatchObject({ gates: 6, workers: 2, allOnline: true, offlineAfterStop: 6 });
    expect(report.scansFed).toBeGreaterThan(0);
    expect(report.eventsReceived).toBeGreaterThan(0);
    expect(report.messagesPerSec).toBeGreaterThan(0);
    expect(report.admits).toBeGreaterThan(0);
    expect(report.rttMs.n).toBeGreaterThan(0);
    expect(report.rttMs.p99).toBeGreaterThanOrEqual(report.rttMs.p50 ?? 0);
    expect(report.rssMb.simulator).toBeGreaterThan(0);
    expect(report.rssMb.mosquitto).toBeGreaterThan(0);
  });

  it('prints the figures as a table in short mode', () => {
    const run = runSim(['--short']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/all 5 gates online after [\d.]+ s/);
    expect(run.stdout).toMatch(/\| messages received by operations \| [\d.]+ \/s/);
    expect(run.stdout).toMatch(
      /\| broker round trip p50 \/ p99 \/ max \| [\d.]+ \/ [\d.]+ \/ [\d.]+ ms/,
    );
  });

  it('refuses an unknown option with exit code 2', () => {
    const run = runSim(['--gatez', '5']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('fleet-sim: unknown option --gatez\n');
  });

  it.each([
    [
      ['--url', 'http://x'],
      '--url "http://x": scheme "http:" is not one of mqtt: mqtts: tcp: tls:',
    ],
    [['--prefix', 'a/#'], '--prefix "a/#": expected a topic prefix'],
    [['--prefix', 'a/'], '--prefix "a/": expected a topic prefix'],
    [['--prefix', ''], '--prefix "": expected a topic prefix'],
    [['--gates', '3', '--workers', '0'], '--workers "0": expected a whole number from 1 to 500'],
    [['--seconds', '0'], '--seconds "0": expected whole seconds from 1 to 86400'],
    [['--seconds', '1e1'], '--seconds "1e1": expected whole seconds from 1 to 86400'],
    [['--scan-rate', '0'], '--scan-rate "0": expected scans per gate per minute, a decimal number'],
    [['--scan-rate', ''], '--scan-rate "": expected scans per gate per minute'],
    [['--gates'], '--gates: expected a value'],
    [['--ws', '--url', 'mqtt://127.0.0.1:1'], '--ws only applies to the local mosquitto'],
  ])('refuses %j with exit code 2, one line naming the flag, nothing started', (args, message) => {
    const run = runSim(args);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^fleet-sim: [^\n]*\n$/);
    expect(run.stderr).toContain(`fleet-sim: ${message}`);
    expect(leftovers()).toEqual(nothingLeft);
  });

  it('lists every flag with its range under --help', () => {
    const run = runSim(['--help']);
    expect(run.status).toBe(0);
    for (const flag of ['--gates', '--workers', '--seconds', '--scan-rate', '--url', '--prefix'])
      expect(run.stdout).toContain(flag);
    expect(run.stdout).toContain('a decimal number from 0.1 to 600');
  });

  it('names the URL and the reason in one line when the broker cannot be reached (exit 1)', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const run = runSim(['--url', url, '--gates', '1', '--seconds', '1']);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `fleet-sim: cannot connect to ${url}: connect ECONNREFUSED ${url.slice(7)}\n`,
    );
    expect(leftovers()).toEqual(nothingLeft);
  });

  it.each([
    ['SIGTERM', 143, 'stopped (SIGTERM)'],
    ['SIGINT', 130, 'interrupted (SIGINT)'],
  ] as const)(
    'stops its workers and mosquitto and removes its folders on %s',
    async (signal, code, line) => {
      cliPath();
      const sim = spawn(process.execPath, [script, '--gates', '2', '--seconds', '60'], {
        cwd: root,
        env: { ...process.env, TMPDIR: simTmp },
      });
      let stdout = '';
      let stderr = '';
      sim.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const online = new Promise<void>((resolve) => {
        sim.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('all 2 gates online')) resolve();
        });
      });
      await Promise.race([online, exited(sim)]);
      expect(stdout).toContain('fleet-sim: 2 gates in 1 worker process against a local mosquitto');
      expect(leftRunning()).toMatch(/mosquitto[\s\S]*fleet-sim-worker/);

      sim.kill(signal);
      expect(await exited(sim)).toBe(code);
      expect(stderr).toBe(`fleet-sim: ${line}\n`);
      expect(leftovers()).toEqual(nothingLeft);
    },
  );
});

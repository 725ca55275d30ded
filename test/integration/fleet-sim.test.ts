import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/daemon.js';
import { mosquittoMissing } from '../helpers/mosquitto.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

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

function runSim(args: string[]) {
  cliPath(); // the simulator runs the built code: fail clearly when it is missing
  return spawnSync(process.execPath, [join(root, 'scripts', 'fleet-sim.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

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
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/daemon.js';
import { mountNamespaceUnavailable } from '../helpers/fake-sysfs.js';
import { mosquittoMissing } from '../helpers/mosquitto.js';
import { socatAvailable } from '../helpers/pty.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function runBench(script: string, args: string[] = [], timeout = 120_000) {
  cliPath(); // the scripts import the built code: fail clearly when it is missing
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', join(root, 'scripts', script), '--short', ...args],
    { cwd: root, encoding: 'utf8', timeout },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every figure `npm run bench` must report, as keys of `figures` in results.json. */
const FIGURES = [
  'scanToRelayIdleMs',
  'scanToRelayDrainingMs',
  'decisionMs',
  'decisionVerifyMs',
  'decisionPolicyMs',
  'decisionJournalMs',
  'verificationsPerSec',
  'verifyUs',
  'ratioRp1ToJwt',
  'tokenChars',
  'qrVersion',
  'rssAfterStartBytes',
  'rssAfterScansBytes',
  'rssWithRevocationsBytes',
  'startToReadyMs',
  'revocationLookupUs',
  'outboxDrainPerSec',
];
/** Figures that come from scripts/bench-revocations.mjs, which may not be there yet. */
const REVOCATION_FIGURES = new Set(['rssWithRevocationsBytes', 'revocationLookupUs']);

/** Every number in `value`, with its path; strings are not numbers. */
function numbersIn(value: unknown, path: string): { path: string; value: unknown }[] {
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => numbersIn(v, `${path}.${k}`));
  return [{ path, value }];
}

const daemonSkip =
  mosquittoMissing() ??
  mountNamespaceUnavailable() ??
  (socatAvailable() ? undefined : 'socat is not installed');

// The benchmarks are scripts, not timed tests: this only proves they still run and report.
// A short run takes 5–40 s on a quiet machine; the test waits longer than the script may run.
const TEST_TIMEOUT_MS = 150_000;
describe('benchmark scripts in short mode', () => {
  it(
    'bench:token compares RP1 and JWT verification and QR versions',
    () => {
      const out = runBench('bench-token.mjs');
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(
        /\| RP1 \| EdDSA \| \d+ \| [\d,]+ \| [\d.]+ \| \d+ \| 8 \| \d+ \|/,
      );
      expect(out.stdout).toMatch(/RP1 \/ JWT verifications per second: EdDSA [\d.]+×/);
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(mosquittoMissing() !== undefined)(
    'bench:pipeline measures the drain and scan latency',
    () => {
      const out = runBench('bench-pipeline.mjs');
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/\| idle \(outbox empty\) \|/);
      expect(out.stdout).toMatch(/\| draining at mqtt\.drainPerSec \d+ \|/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the soak feeds random and mutated input through the pipeline with no crash and no wrong admit',
    () => {
      const out = runBench('soak.mjs');
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/crashes\W+0/i);
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(daemonSkip !== undefined)(
    'the memory-growth probe samples the daemon before and after GC at every checkpoint',
    () => {
      const args = ['--json', '--scans', '200', '--every', '100'];
      const out = runBench('bench/memory-growth.mjs', args);
      expect(out.code).toBe(0);
      const report = JSON.parse(out.stdout);
      expect(report.heapLimitMiB).toBeGreaterThan(0);
      expect(report.checkpoints.map((c: { scans: number }) => c.scans)).toEqual([0, 100, 200]);
      for (const { pre, post } of report.checkpoints)
        for (const sample of [pre, post])
          for (const field of ['rss', 'heapUsed', 'heapTotal', 'external', 'otherAnon'])
            expect(sample[field], field).toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(daemonSkip !== undefined)(
    'npm run bench -- --short writes every figure, as a number above zero or marked not measured',
    () => {
      const out = mkdtempSync(join(tmpdir(), 'ridergate-bench-short-'));
      try {
        const run = runBench('bench.mjs', ['--out', out], 240_000);
        expect(run.stderr).not.toMatch(/failed/);
        expect(run.code).toBe(0);
        const report = JSON.parse(readFileSync(join(out, 'short-results.json'), 'utf8'));
        expect(report).toMatchObject({ mode: 'short', machine: { cores: expect.any(Number) } });
        expect(report.machine.node).toBe(process.version);
        expect(Object.keys(report.figures).sort()).toEqual([...FIGURES].sort());
        const revocationsScript = existsSync(join(root, 'scripts', 'bench-revocations.mjs'));
        for (const name of FIGURES) {
          const figure = report.figures[name];
          if (REVOCATION_FIGURES.has(name) && !revocationsScript) {
            expect(figure, name).toEqual({ notMeasured: 'not measured (script missing)' });
            continue;
          }
          const numbers = numbersIn(figure, name);
          expect(numbers.length, name).toBeGreaterThan(0);
          for (const n of numbers) {
            expect(typeof n.value, n.path).toBe('number');
            expect(n.value as number, n.path).toBeGreaterThan(0);
          }
        }
        const table = readFileSync(join(out, 'short-results.md'), 'utf8');
        expect(table).toMatch(/\| 1 \| Scan-to-relay latency, idle \| [\d.,]+ ms \| [\d.,]+ ms \|/);
        expect(table).toMatch(/\| 6 \| Process start to ready \| [\d.,]+ ms \|/);
        expect(table).toContain(`Node.js ${process.version}`);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    300_000,
  );
});

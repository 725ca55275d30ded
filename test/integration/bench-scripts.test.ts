import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/daemon.js';
import { mosquittoMissing } from '../helpers/mosquitto.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function runBench(script: string) {
  cliPath(); // the scripts import the built code: fail clearly when it is missing
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', join(root, 'scripts', script), '--short'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// The benchmarks are scripts, not timed tests: this only proves they still run and report.
describe('benchmark scripts in short mode', () => {
  it('bench:token compares RP1 and JWT verification and QR versions', () => {
    const out = runBench('bench-token.mjs');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/\| RP1 \| EdDSA \| \d+ \| [\d,]+ \| \d+ \| 8 \| \d+ \|/);
    expect(out.stdout).toMatch(/RP1 \/ JWT verifications per second: EdDSA [\d.]+×/);
  });

  it.skipIf(mosquittoMissing() !== undefined)(
    'bench:pipeline measures the drain and scan latency',
    () => {
      const out = runBench('bench-pipeline.mjs');
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/\| idle \(outbox empty\) \|/);
      expect(out.stdout).toMatch(/\| draining at mqtt\.drainPerSec \d+ \|/);
    },
  );

  it('the soak feeds random and mutated input through the pipeline with no crash and no wrong admit', () => {
    const out = runBench('soak.mjs');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/crashes\W+0/i);
  });
});

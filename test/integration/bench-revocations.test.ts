import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/daemon.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// A script, not a timed test: this proves it runs, answers right and reports its figures.
describe('bench:revocations in short mode', () => {
  it('prints one JSON object with lookup percentiles, load time and memory', () => {
    cliPath(); // the script imports the built code: fail clearly when it is missing
    const result = spawnSync(
      process.execPath,
      ['--expose-gc', join(root, 'scripts', 'bench-revocations.mjs'), '--short', '--json'],
      { cwd: root, encoding: 'utf8', timeout: 180_000 },
    );
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      mode: 'short',
      entries: 100_000,
      index: { p50Us: expect.any(Number), p99Us: expect.any(Number) },
      sqlite: { p99Us: expect.any(Number) },
      loadMs: expect.any(Number),
      indexMb: expect.any(Number),
      rssMb: expect.any(Number),
    });
  }, 200_000);
});

import type { Command } from 'commander';
import { runDemo } from './demo/run-demo.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run the whole gate on this machine: embedded broker, simulated relay, real QR images',
    )
    .option(
      '--dir <folder>',
      'where to keep keys, QR images, the database and the log (default: a new temp folder)',
    )
    .option('--sim', 'use the simulated scanner even when socat is installed')
    .action(async (opts: { dir?: string; sim?: boolean }) => {
      const ok = await runDemo({ ...opts, out: (line) => process.stdout.write(`${line}\n`) });
      process.exitCode = ok ? 0 : 1;
    });
}

import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH } from '../config/load.js';
import { RidergateError } from '../errors.js';
import { createLogger } from '../log.js';
import { systemCheckEnv } from '../provision/check.js';
import type { Confirm } from '../provision/checks/relay-check.js';
import { allPassed, formatTable } from '../provision/report.js';
import { loadForChecks, runSelftest } from '../provision/run-checks.js';

/** Options of `ridergate selftest`, also run at the end of `ridergate provision`. */
export interface SelftestCommandOptions {
  config: string;
  yes?: boolean;
  scan?: boolean;
  scanTimeout: string;
}

export function registerSelftestCommand(program: Command): void {
  program
    .command('selftest')
    .description('click the relay, read a scan, reach the broker: a pass/fail table with fixes')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .option('-y, --yes', 'do not ask whether the relay clicked; count it as seen')
    .option('--no-scan', 'do not wait for a QR code to be scanned')
    .option('--scan-timeout <seconds>', 'how long to wait for a scan', '30')
    .action(async (opts: SelftestCommandOptions) => {
      process.exitCode = (await runSelftestCommand(opts)) ? 0 : 1;
    });
}

/** Runs the selftest and prints its table. @returns true when every check passed. */
export async function runSelftestCommand(opts: SelftestCommandOptions): Promise<boolean> {
  const scanTimeoutSec = Number(opts.scanTimeout);
  if (!Number.isInteger(scanTimeoutSec) || scanTimeoutSec < 1 || scanTimeoutSec > 600) {
    throw new RidergateError(
      'usage',
      `--scan-timeout ${JSON.stringify(opts.scanTimeout)}: expected whole seconds from 1 to 600`,
    );
  }
  const env = systemCheckEnv();
  const loaded = loadForChecks(opts.config, env);
  if (loaded.input === undefined) {
    process.stdout.write(formatTable([loaded.row]));
    return false;
  }
  const results = await runSelftest(loaded.input, {
    confirm: opts.yes === true ? async () => true : terminalConfirm(),
    scanTimeoutMs: scanTimeoutSec * 1000,
    skipScan: opts.scan === false,
    announce: (line) => process.stdout.write(`${line}\n`),
    log: createLogger('warn', 2),
  });
  process.stdout.write(formatTable([loaded.row, ...results]));
  return allPassed(results);
}

/** Asks on the terminal; undefined without one (the answer cannot be had, so it is skipped). */
function terminalConfirm(): Confirm {
  return async (question) => {
    if (!process.stdin.isTTY || !process.stdout.isTTY) return undefined;
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      for (;;) {
        const answer = (await rl.question(`${question} [y/n] `)).trim().toLowerCase();
        if (answer === 'y' || answer === 'yes') return true;
        if (answer === 'n' || answer === 'no') return false;
        process.stdout.write('please answer y or n\n');
      }
    } finally {
      rl.close();
    }
  };
}

import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH } from '../config/load.js';
import { systemCheckEnv } from '../provision/check.js';
import { allPassed, formatJson, formatTable } from '../provision/report.js';
import { loadForChecks, runDoctorChecks } from '../provision/run-checks.js';

/** `ridergate doctor`: is this gate fit to run? Moves nothing. Exit 0 fit (warnings allowed), 1 not. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check that this gate is fit to run, moving nothing: devices, permissions, clock, disk, database, trust list, broker',
    )
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .option(
      '--user <name>',
      'the service user whose permissions are checked (default: ridergate if it exists)',
    )
    .option('--json', 'print JSON: { ok, checks: [{ check, status, detail, fix }] }')
    .action(async (opts: { config: string; user?: string; json?: boolean }) => {
      const env = systemCheckEnv(opts.user === undefined ? {} : { serviceUser: opts.user });
      const loaded = loadForChecks(opts.config, env);
      const results =
        loaded.input === undefined
          ? [loaded.row]
          : [loaded.row, ...(await runDoctorChecks(loaded.input))];
      process.stdout.write(opts.json === true ? formatJson(results) : formatTable(results));
      process.exitCode = allPassed(results) ? 0 : 1;
    });
}

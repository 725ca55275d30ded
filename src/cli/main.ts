#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { describeError, isRidergateError } from '../errors.js';
import { VERSION } from '../version.js';
import { exitQuietlyOnClosedPipe } from './closed-pipe.js';
import { registerCmdCommands } from './cmd-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerDevicesCommand } from './devices-command.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerEventsCommand } from './events-command.js';
import { registerKeysCommands } from './keys-command.js';
import { registerOpsCommand } from './ops-command.js';
import { registerProvisionCommand } from './provision-command.js';
import { registerRelayCommands } from './relay-command.js';
import { registerRevocationsCommands } from './revocations-command.js';
import { registerRunCommand } from './run-command.js';
import { registerScanCommand } from './scan-command.js';
import { registerScannersCommand } from './scanners-command.js';
import { registerSelftestCommand } from './selftest-command.js';
import { registerTokenCommands } from './token-command.js';
import { registerTrustCommands } from './trust-command.js';
import { registerWatchCommand } from './watch-command.js';

/** Exit codes: 0 success, 1 failure at run time, 2 bad usage, 78 bad configuration (EX_CONFIG). */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const;

function buildProgram(): Command {
  const program = new Command('ridergate')
    .description('Gate controller for delivery riders: scan, verify, open, record, report.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerRunCommand(program);
  registerDemoCommand(program);
  registerKeysCommands(program);
  registerTokenCommands(program);
  registerTrustCommands(program);
  registerRelayCommands(program);
  registerScanCommand(program);
  registerScannersCommand(program);
  registerDevicesCommand(program);
  registerEventsCommand(program);
  registerWatchCommand(program);
  registerOpsCommand(program);
  registerProvisionCommand(program);
  registerSelftestCommand(program);
  registerDoctorCommand(program);
  registerCmdCommands(program);
  registerRevocationsCommands(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout);
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
    if (!(err instanceof CommanderError))
      process.stderr.write(`ridergate: ${describeError(err)}\n`);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (isRidergateError(err, 'usage')) return EXIT.usage;
  if (isRidergateError(err, 'config_invalid') || isRidergateError(err, 'config_unreadable'))
    return EXIT.config;
  return EXIT.failure;
}

await main(process.argv);

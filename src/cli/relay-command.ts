import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfigSection } from '../config/load.js';
import { resolveRelaySettings } from '../devices/relay-settings.js';
import { OnoffRelay } from '../gpio/onoff-relay.js';
import { SimRelay } from '../gpio/sim-relay.js';
import { MAX_PULSE_MS, type Relay } from '../gpio/types.js';
import { createLogger } from '../log.js';
import { loadRelayOffSettings } from './relay-off-settings.js';
import { refuseWhileGateRuns } from './running-gate.js';
import { parseWholeFlag } from './whole-number.js';

export function registerRelayCommands(program: Command): void {
  const command = program.command('relay').description('drive the barrier relay by hand');
  command
    .command('off')
    .description('drive the relay inactive (the systemd stop hook runs this)')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .action(async (opts: { config: string }) => {
      // Lenient: only the line is read, so a mistake elsewhere never leaves the relay active.
      const relay = loadRelayOffSettings(opts.config, process.env, (line) =>
        process.stderr.write(`ridergate: warning: ${line}\n`),
      );
      if (relay.driver === 'sim') {
        process.stdout.write('relay driver is sim: nothing to drive\n');
        return;
      }
      const log = createLogger('warn', 2);
      const driver = new OnoffRelay({ pin: relay.pin, activeLow: relay.activeLow }, log);
      await driver.init();
      await driver.close();
      process.stdout.write(`relay on BCM pin ${relay.pin} is inactive\n`);
    });
  command
    .command('pulse')
    .description('open the barrier once, as an admitted scan would (for installation checks)')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .option('--ms <ms>', 'pulse length (default: relay.pulseMs)')
    .action(async (opts: { config: string; ms?: string }) => {
      // A bad flag is bad usage whatever the configuration says, so it is checked first.
      const msFlag =
        opts.ms === undefined
          ? undefined
          : parseWholeFlag('--ms', opts.ms, 50, MAX_PULSE_MS, 'milliseconds');
      const relay = resolveRelaySettings(loadConfigSection(opts.config, 'relay'));
      const pulseMs = msFlag ?? relay.pulseMs;
      refuseWhileGateRuns(opts.config, 'pulse the relay by hand');
      const log = createLogger('warn', 2);
      const driver = relay.driver === 'sim' ? new SimRelay(log) : new OnoffRelay(relay, log);
      await driver.init();
      driveOffOnExit(driver);
      try {
        const pulse = await driver.pulse(pulseMs);
        const heldMs = Math.round(pulse.endedMono - pulse.startedMono);
        process.stdout.write(
          `relay on BCM pin ${relay.pin} (${relay.driver}) was active for ${heldMs} ms\n`,
        );
      } finally {
        await driver.close();
      }
    });
}

/** Drives the relay inactive however the command ends: normally, Ctrl-C or SIGTERM. */
function driveOffOnExit(driver: Relay): void {
  process.once('exit', () => driver.off());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      driver.off();
      process.exit(130);
    });
  }
}

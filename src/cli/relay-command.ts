import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.js';
import { OnoffRelay } from '../gpio/onoff-relay.js';
import { createLogger } from '../log.js';

export function registerRelayCommands(program: Command): void {
  const relay = program.command('relay').description('drive the barrier relay by hand');
  relay
    .command('off')
    .description('drive the relay inactive (the systemd stop hook runs this)')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .action(async (opts: { config: string }) => {
      const { config } = loadConfig(opts.config);
      if (config.relay.driver === 'sim') {
        process.stdout.write('relay driver is sim: nothing to drive\n');
        return;
      }
      const log = createLogger('warn', 2);
      const driver = new OnoffRelay(
        { pin: config.relay.pin, activeLow: config.relay.activeLow },
        log,
      );
      await driver.init();
      await driver.close();
      process.stdout.write(`relay on BCM pin ${config.relay.pin} is inactive\n`);
    });
}

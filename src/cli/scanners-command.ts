import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfigSection } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import { listSerialDevices } from '../scanner/port-list.js';
import { table } from './devices-command.js';

/** `ridergate scanners`: lists serial devices and marks the configured one; never fails. */
export function registerScannersCommand(program: Command): void {
  program
    .command('scanners')
    .description('list serial devices a scanner could be on, marking the configured one (*)')
    .option('-c, --config <file>', 'configuration file (for scanner.path)', DEFAULT_CONFIG_PATH)
    .option('--json', 'print JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      const notes: string[] = [];
      const scanner = readScannerSection(opts.config, notes);
      if (scanner?.driver === 'tcp')
        notes.push(
          `scanner.driver is tcp (${scanner.host ?? '?'}:${scanner.port ?? '?'}): no serial device is used`,
        );
      const configured = scanner?.driver === 'serial' ? scanner.path : undefined;
      const listing = await listSerialDevices(configured);
      listing.notes.unshift(...notes);
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
        return;
      }
      const rows = listing.ports.map((p) => [
        p.configured ? '*' : '',
        p.path,
        p.device ?? '(missing)',
        p.foundBy.join(','),
        p.info ?? '',
      ]);
      if (rows.length > 0)
        process.stdout.write(table(['', 'PATH', 'DEVICE', 'FOUND BY', 'INFO'], rows));
      else process.stdout.write('no serial devices found\n');
      for (const note of listing.notes) process.stdout.write(`note: ${note}\n`);
    });
}

/** The scanner section, or undefined with a note when the file cannot be read or is invalid. */
function readScannerSection(path: string, notes: string[]): Config['scanner'] | undefined {
  try {
    return loadConfigSection(path, 'scanner');
  } catch (err) {
    notes.push(`no configured scanner to mark: ${describeError(err).split('\n').join(' ')}`);
    return undefined;
  }
}

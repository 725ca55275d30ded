import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { describeProfileSettings } from '../devices/describe.js';
import { devicesDir, loadProfiles } from '../devices/profiles.js';
import { RidergateError } from '../errors.js';

/** `ridergate devices`: lists the device profiles and reports every invalid one. */
export function registerDevicesCommand(program: Command): void {
  program
    .command('devices')
    .description(
      'list the device profiles (scanner families, relay boards) scanner.profile can name',
    )
    .option('--dir <folder>', 'read profiles from this folder instead of the packaged devices/')
    .option('--json', 'print JSON: the profiles with all their settings, and any problems')
    .action((opts: { dir?: string; json?: boolean }) => {
      if (opts.dir !== undefined && !isFolder(opts.dir))
        throw new RidergateError('usage', `--dir ${opts.dir}: no such folder`);
      const dir = opts.dir ?? devicesDir();
      const { profiles, problems } = loadProfiles(dir);
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ dir, profiles, problems }, null, 2)}\n`);
      } else {
        const rows = profiles.map((p) => [p.name, p.kind, p.summary, describeProfileSettings(p)]);
        process.stdout.write(table(['NAME', 'KIND', 'SUMMARY', 'SETTINGS'], rows));
        process.stdout.write(
          `${profiles.length} profile(s) in ${dir}; use one with scanner.profile: NAME\n`,
        );
      }
      if (problems.length > 0) {
        process.stderr.write(
          `${problems.length} problem(s) in profile files:\n  ${problems.join('\n  ')}\n`,
        );
        process.exitCode = 1;
      }
    });
}

function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/** Left-aligned columns, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

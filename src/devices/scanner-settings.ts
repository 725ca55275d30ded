import type { Config } from '../config/schema.js';
import { RidergateError } from '../errors.js';
import {
  DEFAULT_STALE_LINE_MS,
  LINE_SETTING_KEYS,
  type LineSettings,
  lineSettingsOf,
  type ScannerSettings,
} from '../scanner/settings.js';
import { devicesDir, findScannerProfile } from './profiles.js';

/**
 * Problems of a `scanner` section that its schema cannot express: driver `tcp` needs `host`
 * and `port`. Reads no file; the configuration loader may add these to its own checks.
 */
export function scannerConfigProblems(scanner: Config['scanner']): string[] {
  if (scanner.driver !== 'tcp') return [];
  const problems: string[] = [];
  if (scanner.host === undefined)
    problems.push(
      'scanner.host: missing; driver "tcp" needs the network scanner\'s (or bridge\'s) host name or address',
    );
  if (scanner.port === undefined)
    problems.push('scanner.port: missing; driver "tcp" needs the TCP port the scanner serves');
  return problems;
}

/**
 * The settings a scanner runs with: built-in defaults (9600 8N1, terminator `auto`, nothing
 * stripped), then the line settings of `scanner.profile` from `dir`, then every line setting
 * the configuration sets itself. createScanner calls it; the configuration loader may call it
 * too, to report a bad profile at start.
 * @param dir where profiles are read; the packaged devices/ folder by default.
 * @throws RidergateError `config_invalid`: unknown or invalid profile, tcp without host/port.
 */
export function resolveScannerSettings(
  scanner: Config['scanner'],
  dir: string = devicesDir(),
): ScannerSettings {
  const problems = scannerConfigProblems(scanner);
  if (problems.length > 0) {
    throw new RidergateError(
      'config_invalid',
      `invalid scanner settings:\n  ${problems.join('\n  ')}`,
      { context: { problems } },
    );
  }
  const profileLine =
    scanner.profile === undefined ? {} : findScannerProfile(scanner.profile, dir).scanner;
  const line = lineSettingsOf({ ...profileLine, ...lineSettingsSetIn(scanner) });
  return { ...scanner, ...line, staleLineMs: scanner.staleLineMs ?? DEFAULT_STALE_LINE_MS };
}

/** The line settings the `scanner` section sets itself (those left out are not keys at all). */
function lineSettingsSetIn(scanner: Config['scanner']): Partial<LineSettings> {
  const set: Partial<LineSettings> = {};
  for (const key of LINE_SETTING_KEYS) {
    if (scanner[key] !== undefined) Object.assign(set, { [key]: scanner[key] });
  }
  return set;
}

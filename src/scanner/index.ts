import type { Config } from '../config/schema.js';
import { resolveScannerSettings } from '../devices/scanner-settings.js';
import type { Logger } from '../log.js';
import { SerialScanner } from './serial-scanner.js';
import { SimScanner } from './sim-scanner.js';
import { TcpScanner } from './tcp-scanner.js';
import type { Scanner } from './types.js';

export { decodeFrame, previewBytes, previewScanText } from './decode.js';
export { ScanDeduper } from './dedupe.js';
export { type Frame, LineFramer, type Terminator } from './framer.js';
export { describePermissionDenied, type PermissionProbe } from './permission.js';
export { ScanPipeline } from './pipeline.js';
export {
  SerialScanner,
  type SerialScannerDeps,
  type SerialScannerOptions,
} from './serial-scanner.js';
export {
  DEFAULT_LINE_SETTINGS,
  type LineSettings,
  lineSettingsOf,
  type ScannerSettings,
} from './settings.js';
export { SimScanner, type SimScannerOptions } from './sim-scanner.js';
export { looksLikeToken, SplitReadDetector } from './split-read.js';
export { TcpScanner, type TcpScannerOptions } from './tcp-scanner.js';
export type { Scan, Scanner, ScannerStats } from './types.js';
export { unwrapFrame } from './unwrap.js';

/**
 * Builds the scanner the configuration names, with `scanner.profile` (a file in devices/) and
 * the section's own line settings applied by resolveScannerSettings: `serial` reads `path`
 * with serialport; `tcp` connects to `host`:`port`; `sim` reads only what is given to
 * {@link SimScanner.feed} (the caller narrows the type to reach it).
 * @throws RidergateError `config_invalid` for an unknown or invalid profile, or `tcp` without
 *   `host` and `port`.
 */
export function createScanner(config: Config['scanner'], log: Logger): Scanner {
  const settings = resolveScannerSettings(config);
  switch (settings.driver) {
    case 'serial':
      return new SerialScanner(settings, log);
    case 'tcp':
      return new TcpScanner(
        { ...settings, host: settings.host ?? '', port: settings.port ?? 0 },
        log,
      );
    case 'sim':
      return new SimScanner({ ...settings, source: 'sim' }, log);
  }
}

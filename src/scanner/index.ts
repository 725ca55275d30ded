import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { SerialScanner } from './serial-scanner.js';
import { SimScanner } from './sim-scanner.js';
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
export { SimScanner, type SimScannerOptions } from './sim-scanner.js';
export { looksLikeToken, SplitReadDetector } from './split-read.js';
export type { Scan, Scanner, ScannerStats } from './types.js';

/**
 * Builds the scanner the configuration names: `serial` reads `path` with serialport; `sim`
 * reads only what is given to {@link SimScanner.feed} (the caller narrows the type to reach it).
 */
export function createScanner(config: Config['scanner'], log: Logger): Scanner {
  switch (config.driver) {
    case 'serial':
      return new SerialScanner(config, log);
    case 'sim':
      return new SimScanner({ ...config, source: 'sim' }, log);
  }
}

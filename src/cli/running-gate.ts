import { loadConfigSection } from '../config/load.js';
import { RidergateError } from '../errors.js';
import { runningGate } from '../store/instance-lock.js';

/**
 * Refuses to drive the relay, or to read the scanner, while a gate runs on this
 * configuration's store (it holds the store lock): two processes on one relay would cut each
 * other's pulses, and the serial port takes one reader. A store section that cannot be read
 * refuses nothing.
 * @param device what the gate holds that this command wants.
 * @throws RidergateError `gpio_failed` (relay) or `scanner_failed` (scanner) naming the
 *   running gate's pid.
 */
export function refuseWhileGateRuns(
  configPath: string,
  what: string,
  device: 'relay' | 'scanner' = 'relay',
): void {
  let storePath: string;
  try {
    storePath = loadConfigSection(configPath, 'store').path;
  } catch {
    return;
  }
  const holder = runningGate(storePath);
  if (holder === undefined) return;
  const holds = device === 'relay' ? 'drives the relay' : 'reads the scanner';
  throw new RidergateError(
    device === 'relay' ? 'gpio_failed' : 'scanner_failed',
    `the gate is running (pid ${holder.pid}) and ${holds}: stop it to ${what} (systemctl stop ridergate)`,
  );
}

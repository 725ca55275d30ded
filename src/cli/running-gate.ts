import { loadConfigSection } from '../config/load.js';
import { RidergateError } from '../errors.js';
import { runningGate } from '../store/instance-lock.js';

/**
 * Refuses to drive the relay while a gate runs on this configuration's store (it holds the
 * store lock): two processes on one relay would cut each other's pulses. A store section that
 * cannot be read refuses nothing.
 * @throws RidergateError `gpio_failed` naming the running gate's pid.
 */
export function refuseWhileGateRuns(configPath: string, what: string): void {
  let storePath: string;
  try {
    storePath = loadConfigSection(configPath, 'store').path;
  } catch {
    return;
  }
  const holder = runningGate(storePath);
  if (holder === undefined) return;
  throw new RidergateError(
    'gpio_failed',
    `the gate is running (pid ${holder.pid}) and drives the relay: stop it to ${what} (systemctl stop ridergate)`,
  );
}

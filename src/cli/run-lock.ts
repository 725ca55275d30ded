import type { Logger } from '../log.js';
import {
  acquireInstanceLock,
  alreadyRunningMessage,
  type InstanceLock,
} from '../store/instance-lock.js';

/**
 * Takes the store's single-instance lock for `ridergate run`, before the relay is touched:
 * a second gate must not drive the relay inactive under the first one's pulse, nor record a
 * second boot or take over the first one's broker session.
 * @returns the lock, or undefined when another live gate holds the store (already reported
 *   on stderr; the caller exits 1 without touching anything).
 */
export async function takeRunLock(
  storePath: string,
  log: Logger,
): Promise<InstanceLock | undefined> {
  const outcome = await acquireInstanceLock(storePath, log);
  if (outcome.taken === false) {
    const message = alreadyRunningMessage(outcome.holder, storePath);
    log.error({ pid: outcome.holder.pid, lock: outcome.path }, 'another gate holds the store');
    log.flush();
    process.stderr.write(`ridergate: ${message}\n`);
    return undefined;
  }
  if (outcome.taken === 'unavailable') {
    // A read-only or full disk must not stop the gate (the journal waits in memory).
    log.warn(
      { lock: outcome.path, reason: outcome.reason },
      'store lock not taken: a second gate on this store would not be refused',
    );
    return { path: outcome.path, release: () => undefined };
  }
  return outcome.lock;
}

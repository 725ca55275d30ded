import { type LockHolder, runningGate } from '../../store/instance-lock.js';
import type { CheckInput, CheckResult } from '../check.js';

/** The live gate holding this configuration's store (its lock), if one runs. */
export function gateRunning({ config }: CheckInput): LockHolder | undefined {
  return runningGate(config.store.path);
}

/** Why the selftest leaves the relay and the scanner alone while the gate runs. */
export function runningGateSkip(holder: LockHolder): string {
  return `the gate is running (pid ${holder.pid}): stop it to click the relay and read a scan (systemctl stop ridergate)`;
}

/** doctor's information row: a running gate is normal, and it explains a busy scanner. */
export function runningGateInfo(input: CheckInput, holder: LockHolder): CheckResult {
  return {
    check: 'gate service',
    status: 'ok',
    detail: `the gate is running (pid ${holder.pid}, since ${holder.startedAt}) on ${input.config.store.path}; doctor moves nothing, so it checks alongside`,
  };
}

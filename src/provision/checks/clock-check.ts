import { existsSync } from 'node:fs';
import type { CheckInput, CheckResult } from '../check.js';

const CHECK = 'clock';

/** Before this moment the clock is surely wrong: a Pi without RTC booting at an old time. */
const EARLIEST_PLAUSIBLE_MS = Date.UTC(2025, 0, 1);

/**
 * The clock is synchronised: tokens carry iat/exp checked against it within policy.skewSec,
 * so a wrong clock denies every rider. systemd-timesyncd's flag file first, then timedatectl.
 */
export function checkClock({ env }: CheckInput): CheckResult {
  const now = env.nowMs();
  const shown = new Date(now).toISOString();
  if (now < EARLIEST_PLAUSIBLE_MS) {
    return {
      check: CHECK,
      status: 'fail',
      detail: `the clock says ${shown}, which cannot be right; every token would be refused`,
      fix: 'connect the Pi to a network with NTP (timedatectl set-ntp true) or fit an RTC',
    };
  }
  if (existsSync(env.timesyncFlag))
    return { check: CHECK, status: 'ok', detail: `synchronised (systemd-timesyncd), ${shown}` };
  const answer = env.ntpSynchronized();
  if (answer === 'yes')
    return { check: CHECK, status: 'ok', detail: `synchronised (NTP), ${shown}` };
  return {
    check: CHECK,
    status: 'warn',
    detail:
      answer === undefined
        ? `cannot tell whether the clock is synchronised (no ${env.timesyncFlag}, timedatectl unavailable), ${shown}`
        : `not synchronised to NTP, ${shown}`,
    fix: 'timedatectl set-ntp true; check that the network reaches an NTP server (UDP 123)',
  };
}

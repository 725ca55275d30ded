import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';

/** How one check came out. `skip`: not applicable here (a sim driver) or not asked for. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One row of the selftest or doctor table. */
export interface CheckResult {
  /** Short name, e.g. `serial device`, `broker`. */
  check: string;
  status: CheckStatus;
  /** One line saying what was found. */
  detail: string;
  /** One line saying what to do; set for every `warn` and `fail`. */
  fix?: string;
}

/**
 * What the checks read from the system, injectable so tests point them at temp folders:
 * a fake /sys/class/gpio tree, a fake /etc/group, a clock probe that needs no systemd.
 */
export interface CheckEnv {
  /** Root of the sysfs GPIO class, default /sys/class/gpio. */
  gpioRoot: string;
  /** /etc/passwd and /etc/group. */
  passwdFile: string;
  groupFile: string;
  /** The user the service runs as: `ridergate` when that user exists, else the current user. */
  serviceUser: string;
  /** The flag file systemd-timesyncd creates once the clock is synchronised. */
  timesyncFlag: string;
  /** Runs `timedatectl show -p NTPSynchronized --value`; undefined when it cannot run. */
  ntpSynchronized: () => string | undefined;
  /** Wall clock, ms since the epoch. */
  nowMs: () => number;
}

/** What every check is given. */
export interface CheckInput {
  config: Config;
  /** The configuration file the checks are about, for messages. */
  configFile: string;
  env: CheckEnv;
}

/** The service user of the systemd unit (scripts/install.sh creates it). */
export const SERVICE_USER = 'ridergate';

/** The real system's paths and probes. */
export function systemCheckEnv(over: Partial<CheckEnv> = {}): CheckEnv {
  const passwdFile = over.passwdFile ?? '/etc/passwd';
  return {
    gpioRoot: '/sys/class/gpio',
    passwdFile,
    groupFile: '/etc/group',
    serviceUser: userExists(passwdFile, SERVICE_USER) ? SERVICE_USER : userInfo().username,
    timesyncFlag: '/run/systemd/timesync/synchronized',
    ntpSynchronized: runTimedatectl,
    nowMs: () => Date.now(),
    ...over,
  };
}

function userExists(passwdFile: string, name: string): boolean {
  try {
    return readFileSync(passwdFile, 'utf8')
      .split('\n')
      .some((line) => line.split(':')[0] === name);
  } catch {
    return false;
  }
}

/** `timedatectl show -p NTPSynchronized --value`: `yes`, `no`, or undefined when it cannot run. */
function runTimedatectl(): string | undefined {
  const run = spawnSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], {
    encoding: 'utf8',
    timeout: 5_000,
  });
  if (run.error !== undefined || run.status !== 0) return undefined;
  return run.stdout.trim();
}

/** A row from a thrown error: the check failed with the error's message and the given fix. */
export function failed(check: string, err: unknown, fix: string): CheckResult {
  return { check, status: 'fail', detail: describeError(err).split('\n').join(' '), fix };
}

/** True when `path` exists (without following a dangling link into an error). */
export function exists(path: string): boolean {
  return existsSync(path);
}

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Tells whether the system clock is NTP-synchronised now. May answer at once or later; it
 * must never reject (an unanswerable question is "not synchronised").
 */
export type SyncProbe = () => boolean | Promise<boolean>;

/** systemd-timesyncd creates this file once it has synchronised the clock (since boot). */
export const TIMESYNC_FLAG = '/run/systemd/timesync/synchronized';

/** The timedatectl question: prints `yes` or `no` (the kernel's adjtimex sync state). */
export const TIMEDATECTL = ['timedatectl', 'show', '-p', 'NTPSynchronized', '--value'];

/** True while `path` exists (systemd-timesyncd's flag file by default). */
export function flagFileProbe(path = TIMESYNC_FLAG): () => boolean {
  return () => existsSync(path);
}

/**
 * Runs `command` (timedatectl by default) and reads `yes` from its output. Covers chrony and
 * ntpd too, since timedatectl reports the kernel's synchronisation state. A missing command,
 * a timeout or any other answer is "not synchronised".
 */
export function commandProbe(command = TIMEDATECTL, timeoutMs = 2_000): SyncProbe {
  const [file, ...args] = command;
  return () =>
    new Promise((resolve) => {
      if (file === undefined) {
        resolve(false);
        return;
      }
      execFile(file, args, { timeout: timeoutMs, maxBuffer: 1024 }, (err, stdout) => {
        resolve(err === null && String(stdout).trim() === 'yes');
      });
    });
}

/**
 * The default: the timesyncd flag file (a cheap stat), else timedatectl, asked at most once per
 * `commandEveryMs` (a process start costs on a Pi), its last answer kept in between.
 */
export function defaultSyncProbe(
  flagPath = TIMESYNC_FLAG,
  command = TIMEDATECTL,
  commandEveryMs = 60_000,
): SyncProbe {
  const flag = flagFileProbe(flagPath);
  const ask = commandProbe(command);
  let lastAskMs = Number.NEGATIVE_INFINITY;
  let lastAnswer = false;
  return () => {
    if (flag()) return true;
    const now = performance.now();
    if (now - lastAskMs < commandEveryMs) return lastAnswer;
    lastAskMs = now;
    return Promise.resolve(ask()).then((answer) => {
      lastAnswer = answer;
      return answer;
    });
  };
}

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { describeError, RidergateError } from '../errors.js';
import type { Logger } from '../log.js';
import { errorCode } from './store-errors.js';
import { prepareStorePath } from './store-path.js';

/** Largest lock file read, bytes: it holds one short JSON line. */
const MAX_LOCK_BYTES = 4096;

/** What the lock file records about the gate holding it. */
export interface LockHolder {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTicks?: number;
  /** The user id it ran as. */
  uid?: number;
  /** /proc/sys/kernel/random/boot_id when the lock was taken. */
  bootId?: string;
  /** When the lock was taken, ISO 8601. */
  startedAt: string;
}

/** The single-instance lock of one store, held by `ridergate run`. */
export interface InstanceLock {
  readonly path: string;
  /** Removes the lock file when it is still ours. Safe to call more than once. */
  release(): void;
}

/** The outcome of {@link acquireInstanceLock}. */
export type LockOutcome =
  | { taken: true; lock: InstanceLock; staleHolder?: LockHolder }
  /** Another live gate holds the store: the caller must stop without touching the relay. */
  | { taken: false; holder: LockHolder; path: string }
  /** The lock file could not be written (read-only or full disk): the gate runs without it. */
  | { taken: 'unavailable'; path: string; reason: string };

/** `<store.path>.lock`. */
export function lockPathOf(storePath: string): string {
  return `${storePath}.lock`;
}

/**
 * Takes the store's lock: creates `<store.path>.lock` exclusively with this process's pid,
 * start time and boot id. A lock whose process is gone (dead pid, a pid reused by another
 * process, another boot, or this very pid) is stale and taken over.
 */
export async function acquireInstanceLock(storePath: string, log: Logger): Promise<LockOutcome> {
  const path = lockPathOf(storePath);
  try {
    await prepareStorePath(storePath);
  } catch (err) {
    return { taken: 'unavailable', path, reason: describe(err) };
  }
  let staleHolder: LockHolder | undefined;
  // Two rounds: a stale lock is removed once, then created again exclusively.
  for (let round = 0; round < 2; round++) {
    const me = selfHolder();
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`);
      } catch (err) {
        // A full disk: leave no empty lock behind.
        closeSync(fd);
        unlinkSync(path);
        throw err;
      }
      closeSync(fd);
      return { taken: true, lock: ownedLock(path, me), ...(staleHolder ? { staleHolder } : {}) };
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') return { taken: 'unavailable', path, reason: describe(err) };
    }
    const holder = readLockFile(path);
    if (holder !== undefined && isLive(holder)) return { taken: false, holder, path };
    staleHolder = holder ?? { pid: 0, startedAt: 'unknown' };
    log.warn({ path, stalePid: holder?.pid }, 'stale store lock taken over');
    try {
      unlinkSync(path);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') return { taken: 'unavailable', path, reason: describe(err) };
    }
  }
  const holder = readLockFile(path);
  if (holder !== undefined) return { taken: false, holder, path };
  return { taken: 'unavailable', path, reason: 'the lock file keeps changing' };
}

/**
 * The live gate holding the store's lock, or undefined when none does (no lock file, or a
 * stale one). For selftest and doctor, which must not drive what a running gate drives.
 */
export function runningGate(storePath: string): LockHolder | undefined {
  const holder = readLockFile(lockPathOf(storePath));
  return holder !== undefined && isLive(holder) ? holder : undefined;
}

/** The message a second `ridergate run` exits with. */
export function alreadyRunningMessage(holder: LockHolder, storePath: string): string {
  return `another ridergate (pid ${holder.pid}) is running on this store ${storePath}; stop it first (systemctl stop ridergate)`;
}

function ownedLock(path: string, me: LockHolder): InstanceLock {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      const now = readLockFile(path);
      if (now?.pid !== me.pid || now.startTicks !== me.startTicks) return;
      try {
        unlinkSync(path);
      } catch {
        // Gone already, or a read-only disk: the next start finds it stale.
      }
    },
  };
}

/** The lock file's holder; undefined when missing or unreadable (an unreadable one is stale). */
function readLockFile(path: string): LockHolder | undefined {
  let text: string;
  try {
    const buffer = readFileSync(path);
    if (buffer.length > MAX_LOCK_BYTES) return undefined;
    text = buffer.toString('utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isSafeInteger(value.pid) || (value.pid as number) <= 0) return undefined;
    return {
      pid: value.pid as number,
      startedAt: typeof value.startedAt === 'string' ? value.startedAt : 'unknown',
      ...(Number.isSafeInteger(value.startTicks) ? { startTicks: value.startTicks } : {}),
      ...(typeof value.bootId === 'string' ? { bootId: value.bootId } : {}),
      ...(Number.isSafeInteger(value.uid) ? { uid: value.uid } : {}),
    };
  } catch {
    return undefined;
  }
}

/** True when the process that wrote the lock still runs. */
function isLive(holder: LockHolder): boolean {
  if (holder.pid === process.pid) return false;
  const bootId = readBootId();
  if (holder.bootId !== undefined && bootId !== undefined && holder.bootId !== bootId) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if (errorCode(err) !== 'EPERM') return false;
    // Another user's process (the service's ProtectProc=invisible may hide its /proc entry):
    // not the gate that wrote the lock when that gate ran as this very user.
    if (holder.uid !== undefined && holder.uid === process.getuid?.()) return false;
  }
  // The pid exists: the same process only when it started when the lock says, and not a
  // zombie (killed, not yet reaped by its parent).
  const stat = procStat(holder.pid);
  if (stat?.state === 'Z') return false;
  const ticks = stat?.startTicks;
  return holder.startTicks === undefined || ticks === undefined || ticks === holder.startTicks;
}

function selfHolder(): LockHolder {
  const startTicks = startTicksOf(process.pid);
  const bootId = readBootId();
  const uid = process.getuid?.();
  return {
    pid: process.pid,
    ...(uid === undefined ? {} : { uid }),
    ...(startTicks === undefined ? {} : { startTicks }),
    ...(bootId === undefined ? {} : { bootId }),
    startedAt: new Date().toISOString(),
  };
}

/** Field 22 of /proc/<pid>/stat; undefined without /proc. */
function startTicksOf(pid: number): number | undefined {
  return procStat(pid)?.startTicks;
}

/** State (field 3) and start time (field 22) of /proc/<pid>/stat; undefined without /proc. */
function procStat(pid: number): { state: string; startTicks?: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return {
      state: fields[0] ?? '',
      ...(Number.isSafeInteger(ticks) ? { startTicks: ticks } : {}),
    };
  } catch {
    return undefined;
  }
}

function readBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  if (err instanceof RidergateError) return describeError(err);
  return errorCode(err) ?? describeError(err);
}

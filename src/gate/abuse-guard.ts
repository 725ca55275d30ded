import type { Logger } from '../log.js';

/** Abuse limits (`policy.abuse`); every field has a default. */
export interface AbuseLimits {
  /** More denials than this within `windowSec` start a lockout; default 10. */
  maxDenials?: number;
  /** default 60. */
  windowSec?: number;
  /** How long a lockout lasts; default 300. */
  lockoutSec?: number;
  /** During a lockout, denials are answered at most one per this many ms; default 2000. */
  delayMs?: number;
  /** Denials waiting their turn at most; more are not journaled, only counted; default 100. */
  maxWaiting?: number;
}

/** What the guard reports in telemetry (contracts.md `abuse`). */
export interface AbuseStats {
  lockedOut: boolean;
  lockouts: number;
}

/** Counts for logs and tests, beyond telemetry. */
export interface AbuseCounts extends AbuseStats {
  /** Denials answered late during lockouts, since start. */
  slowed: number;
  /** Denials dropped (not journaled) because too many were waiting, since start. */
  dropped: number;
}

/** How one denial is to be answered. */
export type DenialTurn =
  | { kind: 'now' }
  /** Answer once `ready` resolves (the slow lane). */
  | { kind: 'later'; ready: Promise<void> }
  /** Too many waiting: count it, do not journal it. */
  | { kind: 'drop' };

export interface AbuseGuardDeps {
  /** Monotonic ms. */
  monoMs: () => number;
  /** Resolves after `ms`; tests give one they control. */
  sleep?: (ms: number) => Promise<void>;
  /** Raises the lockout's one `alarm` (reason `scan_abuse`). */
  onLockout: (detail: string) => void;
  log: Logger;
}

/**
 * Deny reasons that say nothing about the person scanning: in maintenance mode every scan is
 * denied (contracts.md), and a gate under maintenance must not raise `scan_abuse`.
 */
const NOT_COUNTED: ReadonlySet<string> = new Set(['maintenance']);

const sleepReal = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());

/**
 * Scan abuse limits (issue 8): someone probing the gate with forged codes gets slower answers,
 * a rider with a valid token never does. The guard is asked only AFTER a scan was decided and
 * only for denials, so an admission is never held up: the pipeline goes on with the next scan
 * while a denial waits its turn here. More than `maxDenials` denials within `windowSec` start
 * a lockout of `lockoutSec`, raised once as an alarm; during it denials are answered (journaled,
 * reported) one per `delayMs`, in order, and past `maxWaiting` waiting ones are dropped and
 * counted, so a flood cannot fill the journal or the outbox.
 */
export class AbuseGuard {
  private readonly limits: Required<AbuseLimits>;
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Monotonic ms of recent denials, oldest first. */
  private recent: number[] = [];
  private lockedUntil = Number.NEGATIVE_INFINITY;
  private lane: Promise<void> = Promise.resolve();
  private waiting = 0;
  private lockouts = 0;
  private slowed = 0;
  private dropped = 0;
  private droppedThisLockout = 0;
  /** Resolved by {@link release}: every wait ends at once. */
  private readonly released: Promise<void>;
  private releaseAll: () => void = () => undefined;

  constructor(
    limits: AbuseLimits,
    private readonly deps: AbuseGuardDeps,
  ) {
    this.limits = {
      maxDenials: 10,
      windowSec: 60,
      lockoutSec: 300,
      delayMs: 2_000,
      maxWaiting: 100,
      ...stripUndefined(limits),
    };
    this.log = deps.log.child({ component: 'abuse' });
    this.sleep = deps.sleep ?? sleepReal;
    this.released = new Promise((resolve) => {
      this.releaseAll = resolve;
    });
  }

  /**
   * At a stop: every denial waiting its turn is answered at once (journaled, reported), and
   * so is any later one, so that a stop never loses one. Only dropped denials stay dropped.
   */
  release(): void {
    this.releaseAll();
  }

  /** Whether denials are being slowed now. */
  lockedOut(): boolean {
    return this.deps.monoMs() < this.lockedUntil;
  }

  /** The telemetry figures (contracts.md `abuse`). */
  stats(): AbuseStats {
    return { lockedOut: this.lockedOut(), lockouts: this.lockouts };
  }

  /** The telemetry figures plus the slowed and dropped denials. */
  counts(): AbuseCounts {
    return { ...this.stats(), slowed: this.slowed, dropped: this.dropped };
  }

  /** Counts one denial (already decided, for `reason`) and says when it may be answered. */
  denied(reason?: string): DenialTurn {
    if (reason !== undefined && NOT_COUNTED.has(reason)) return { kind: 'now' };
    const now = this.deps.monoMs();
    const windowMs = this.limits.windowSec * 1000;
    this.recent = this.recent.filter((at) => now - at < windowMs);
    this.recent.push(now);
    if (now >= this.lockedUntil && this.recent.length > this.limits.maxDenials) this.lock(now);
    if (now >= this.lockedUntil) return { kind: 'now' };
    if (this.waiting >= this.limits.maxWaiting) return this.drop();
    this.waiting += 1;
    this.slowed += 1;
    const ready = this.lane.then(() =>
      Promise.race([this.sleep(this.limits.delayMs), this.released]),
    );
    this.lane = ready.finally(() => {
      this.waiting -= 1;
    });
    return { kind: 'later', ready };
  }

  private lock(now: number): void {
    const count = this.recent.length;
    this.lockedUntil = now + this.limits.lockoutSec * 1000;
    this.lockouts += 1;
    this.droppedThisLockout = 0;
    this.recent = [];
    const detail =
      `${count} denials in ${this.limits.windowSec} s from the scanner; denials are answered ` +
      `one per ${this.limits.delayMs} ms for ${this.limits.lockoutSec} s (valid tokens are not delayed)`;
    this.log.warn(
      {
        denials: count,
        windowSec: this.limits.windowSec,
        lockoutSec: this.limits.lockoutSec,
        lockouts: this.lockouts,
      },
      'scan abuse lockout',
    );
    this.deps.onLockout(detail);
  }

  private drop(): DenialTurn {
    this.dropped += 1;
    this.droppedThisLockout += 1;
    if (this.droppedThisLockout === 1) {
      this.log.warn({ waiting: this.waiting }, 'denials dropped during lockout; too many waiting');
    }
    return { kind: 'drop' };
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

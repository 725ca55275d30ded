import type { Clock } from '../clock.js';
import type { ClockState } from '../event.js';
import type { Logger } from '../log.js';
import { JumpDetector } from './jump-detector.js';
import { defaultSyncProbe, type SyncProbe } from './sync-probe.js';
import type { TimeFloorFile } from './time-floor.js';
import {
  DEFAULT_UNSYNCED_SKEW_SEC,
  effectiveSkewSec,
  type UnsyncedPolicy,
} from './unsynced-policy.js';

/** Where raw time comes from; tests put a fake system clock here. */
export interface SystemTime {
  /** The system's wall clock, ms since the epoch (Date.now). */
  wallMs(): number;
  /** Monotonic time, ms (performance.now). */
  monoMs(): number;
}

/** The real system clock. */
export const SYSTEM_TIME: SystemTime = {
  wallMs: () => Date.now(),
  monoMs: () => performance.now(),
};

/**
 * No gate runs before this (2025-01-01): a Pi booting at 1970 without a floor file still never
 * judges a token against 1970.
 */
export const BUILD_FLOOR_MS = Date.UTC(2025, 0, 1);

/** What telemetry reports about the clock (contracts.md `clock`). */
export interface ClockStats {
  state: ClockState;
  everSynced: boolean;
  floorTs: number | null;
  jumps: number;
}

/** Settings of {@link TrustedClock}; all but `floor`, `log` and `skewSec` have defaults. */
export interface TrustedClockOptions {
  floor: TimeFloorFile;
  log: Logger;
  /** `policy.skewSec`. */
  skewSec: number;
  /** `policy.unsyncedSkewSec`; default {@link DEFAULT_UNSYNCED_SKEW_SEC}. */
  unsyncedSkewSec?: number;
  /** `policy.unsyncedClock`; default `lenient`. */
  policy?: UnsyncedPolicy;
  system?: SystemTime;
  sync?: SyncProbe;
  /** How often the floor is advanced on disk, ms; default 10 minutes. */
  floorEveryMs?: number;
  /** How often sync state and jumps are checked, ms; default 2000. */
  checkEveryMs?: number;
  /** A wall-clock step at least this large is a jump, ms; default 1000. */
  jumpThresholdMs?: number;
}

/**
 * The gate's clock (DESIGN.md "Reliability rules", field cases C1 and C2). Its time is the
 * system clock, but never earlier than the persisted floor, nor than the floor read at start
 * plus the monotonic time since (a Pi that booted a month behind starts from its last known
 * good time and counts on from there). It samples the sync state and watches for jumps on a
 * timer, advances the floor on disk every `floorEveryMs` and at stop, and tells the gate which
 * skew the unsynced policy asks for.
 */
export class TrustedClock implements Clock {
  private readonly system: SystemTime;
  private readonly sync: SyncProbe;
  private readonly log: Logger;
  private readonly options: Required<
    Omit<TrustedClockOptions, 'floor' | 'log' | 'system' | 'sync'>
  >;
  /** The floor as on disk (or the build floor), ms. */
  private floorMs: number;
  private floorOnDisk: boolean;
  /** The floor read at start and the monotonic time then: real time is at least start + elapsed. */
  private readonly startFloorMs: number;
  private readonly startMono: number;
  private synced: boolean;
  private everSynced: boolean;
  private jumps = 0;
  private readonly detector: JumpDetector;
  private checkTimer: NodeJS.Timeout | undefined;
  private floorTimer: NodeJS.Timeout | undefined;
  /** The running check (checks run one at a time), and whether one is pending. */
  private checking: Promise<void> = Promise.resolve();
  private pending = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: TrustedClockOptions) {
    this.system = opts.system ?? SYSTEM_TIME;
    this.sync = opts.sync ?? defaultSyncProbe();
    this.log = opts.log.child({ component: 'clock' });
    this.options = {
      skewSec: opts.skewSec,
      unsyncedSkewSec: opts.unsyncedSkewSec ?? DEFAULT_UNSYNCED_SKEW_SEC,
      policy: opts.policy ?? 'lenient',
      floorEveryMs: opts.floorEveryMs ?? 600_000,
      checkEveryMs: opts.checkEveryMs ?? 2_000,
      jumpThresholdMs: opts.jumpThresholdMs ?? 1_000,
    };
    const onDisk = opts.floor.read();
    this.floorOnDisk = onDisk !== undefined;
    this.floorMs = Math.max(onDisk ?? 0, BUILD_FLOOR_MS);
    this.startFloorMs = this.floorMs;
    this.startMono = this.system.monoMs();
    const first = this.sync();
    this.synced = first === true;
    this.everSynced = this.synced;
    this.detector = new JumpDetector(
      this.system.wallMs(),
      this.system.monoMs(),
      this.options.jumpThresholdMs,
    );
    const wall = this.system.wallMs();
    this.log.info(
      {
        floorTs: this.floorOnDisk ? this.floorMs : null,
        systemTs: wall,
        behindMs: wall < this.floorMs ? this.floorMs - wall : undefined,
        synced: this.synced,
        policy: this.options.policy,
      },
      'clock ready',
    );
  }

  /** The trusted time: the system clock, never before the floor nor the start floor + elapsed. */
  nowMs(): number {
    const elapsed = this.system.monoMs() - this.startMono;
    return Math.round(Math.max(this.system.wallMs(), this.floorMs, this.startFloorMs + elapsed));
  }

  monoMs(): number {
    return this.system.monoMs();
  }

  state(): ClockState {
    return this.synced ? 'synced' : 'unsynced';
  }

  /** The skew token times are checked with now (the unsynced policy). */
  verifySkewSec(): number {
    const { policy, skewSec, unsyncedSkewSec } = this.options;
    return effectiveSkewSec(this.synced, policy, skewSec, unsyncedSkewSec);
  }

  stats(): ClockStats {
    return {
      state: this.state(),
      everSynced: this.everSynced,
      floorTs: this.floorOnDisk ? this.floorMs : null,
      jumps: this.jumps,
    };
  }

  /** Starts the check and floor timers (unref'd: they never keep the process alive). */
  start(): void {
    if (this.checkTimer !== undefined) return;
    this.checkTimer = setInterval(() => {
      if (this.pending === 0) void this.check();
    }, this.options.checkEveryMs);
    this.checkTimer.unref();
    this.floorTimer = setInterval(() => void this.advanceFloor(), this.options.floorEveryMs);
    this.floorTimer.unref();
    void this.check();
    if (this.synced) void this.advanceFloor();
  }

  /** Stops the timers and writes the floor a last time (a clean stop). Never rejects. */
  async stop(): Promise<void> {
    clearInterval(this.checkTimer);
    clearInterval(this.floorTimer);
    this.checkTimer = undefined;
    this.floorTimer = undefined;
    await this.advanceFloor();
  }

  /** One check, after any running one: sync state, then a jump. The timer calls it. */
  check(): Promise<void> {
    this.pending += 1;
    const run = this.checking.then(async () => {
      try {
        this.noteSync(await this.sync());
        const jump = this.detector.sample(this.system.wallMs(), this.system.monoMs());
        if (jump !== undefined) {
          this.jumps += 1;
          this.log.warn({ ...jump, jumps: this.jumps, synced: this.synced }, 'clock jumped');
        }
      } finally {
        this.pending -= 1;
      }
    });
    this.checking = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes a later floor to disk. While synchronised the trusted time is a good time; while not,
   * only the start floor plus monotonic time is known to be passed (an unsynced system clock
   * that runs ahead must not become the floor). Writes only when the floor moves. Never rejects.
   */
  advanceFloor(): Promise<void> {
    const next = this.writing.then(async () => {
      // Unsynced with no floor on disk, nothing is known to be passed: nothing to write.
      if (!this.synced && !this.floorOnDisk) return;
      const candidate = this.synced
        ? this.nowMs()
        : Math.round(this.startFloorMs + (this.system.monoMs() - this.startMono));
      if (candidate <= this.floorMs && this.floorOnDisk) return;
      const floorMs = Math.max(candidate, this.floorMs);
      try {
        await this.opts.floor.write(floorMs);
        this.floorMs = floorMs;
        this.floorOnDisk = true;
        this.log.debug({ floorTs: floorMs }, 'time floor advanced');
      } catch (err) {
        this.log.warn({ err, path: this.opts.floor.path }, 'time floor not written');
      }
    });
    this.writing = next;
    return next;
  }

  private noteSync(synced: boolean): void {
    if (synced === this.synced) return;
    this.synced = synced;
    if (synced) {
      const first = !this.everSynced;
      this.everSynced = true;
      this.log.info({ first, ts: this.system.wallMs() }, 'clock synchronised');
      if (first) void this.advanceFloor();
    } else {
      this.log.warn({ everSynced: this.everSynced }, 'clock no longer synchronised');
    }
  }
}

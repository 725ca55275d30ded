import { randomUUID } from 'node:crypto';
import { readFile, statfs } from 'node:fs/promises';
import type { ClockState } from '../event.js';
import type { Logger } from '../log.js';

/** Where Linux exposes the SoC temperature, in millidegrees Celsius (Raspberry Pi: the CPU). */
export const CPU_TEMP_PATH = '/sys/class/thermal/thermal_zone0/temp';

/** A random id made once per process start: telemetry with another bootId means a restart. */
export const BOOT_ID = randomUUID();

/** Clock figures of telemetry; `everSynced`, `floorTs`, `jumps` come from the clock helper. */
export interface ClockTelemetry {
  state: ClockState;
  everSynced: boolean;
  /** The persisted time floor, ms since the epoch; null when none is kept. */
  floorTs: number | null;
  /** Wall-clock jumps seen since boot. */
  jumps: number;
}

/** Revocation figures of telemetry. */
export interface RevocationTelemetry {
  /** Sequence number of the revocation state in force; null before the first snapshot. */
  seq: number | null;
  entries: number;
  /** True after a gap in delta numbers, until the next snapshot. */
  waitingForSnapshot: boolean;
  /** When the state last changed, ms since the epoch. */
  lastUpdateTs: number | null;
  /** True when the state is older than operations allow. */
  stale: boolean;
}

/** One telemetry message, as published on `{p}/{site}/{gate}/telemetry` (schemas/telemetry). */
export interface Telemetry {
  ts: number;
  uptimeSec: number;
  version: string;
  bootId: string;
  memory: { rssBytes: number; heapUsedBytes: number };
  cpuTempC: number | null;
  diskFreeBytes: number | null;
  outbox: {
    depth: number | null;
    oldestUndeliveredAgeSec: number | null;
    /** Events set aside now, out of the outbox (field case M4); null while unreadable. */
    setAside: { suspected: number; refused: number } | null;
  };
  scanner: { connected: boolean } & Record<string, unknown>;
  lastScanTs: number | null;
  counts: { byType: Record<string, number>; byReason: Record<string, number> };
  clock: ClockTelemetry;
  trustVersion: number | null;
  revocations: RevocationTelemetry;
  maintenance: boolean;
  abuse: { lockedOut: boolean; lockouts: number };
  link: Record<string, unknown>;
  store?: Record<string, unknown>;
}

type Maybe<T> = () => T | Promise<T>;

/**
 * Where each telemetry figure comes from. Every provider is optional and may throw: a missing
 * or failing one gives its default (null, false, 0), never a lost message.
 */
export interface TelemetryProviders {
  version: string;
  nowMs: () => number;
  /** Process uptime, seconds; default `process.uptime()`. */
  uptimeSec?: () => number;
  /** Default {@link BOOT_ID}. */
  bootId?: string;
  /** Default `process.memoryUsage()`. */
  memory?: () => { rssBytes: number; heapUsedBytes: number };
  /** File holding millidegrees Celsius; default {@link CPU_TEMP_PATH}; absent → null. */
  cpuTempPath?: string;
  /** A folder on the store's filesystem (its free space is reported). */
  storeDir?: string;
  outboxDepth?: Maybe<number>;
  /** Time of the oldest undelivered event, ms since the epoch; undefined when none. */
  oldestUndeliveredTs?: Maybe<number | undefined>;
  /** Events set aside now, by kind. */
  setAside?: Maybe<{ suspected: number; refused: number }>;
  scanner?: () => { connected: boolean } & object;
  lastScanTs?: () => number | undefined;
  /** Events by type and denials by reason since boot. */
  counts?: () => { events: Record<string, number>; denials: Record<string, number> };
  clockState?: () => ClockState;
  /** The clock helper's figures; merged over `{ state, everSynced: state === 'synced', … }`. */
  clock?: () => Partial<ClockTelemetry>;
  trustVersion?: () => number | undefined;
  revocations?: () => Partial<RevocationTelemetry>;
  maintenance?: () => boolean;
  abuse?: () => Partial<Telemetry['abuse']>;
  link?: () => object;
  /** The journal's figures (store healthy, events held in memory). */
  store?: () => object;
}

/**
 * Builds the telemetry message from small providers. A provider that throws is logged at
 * debug level (it would repeat every period) and its figure takes its default.
 */
export class TelemetryBuilder {
  private readonly p: TelemetryProviders;
  private readonly log: Logger | undefined;

  constructor(providers: TelemetryProviders, log?: Logger) {
    this.p = providers;
    this.log = log?.child({ component: 'telemetry' });
  }

  async build(): Promise<Telemetry> {
    const p = this.p;
    const nowMs = p.nowMs();
    const oldest = await this.get('oldestUndeliveredTs', p.oldestUndeliveredTs, undefined);
    const counts = await this.get('counts', p.counts, { events: {}, denials: {} });
    const state = await this.get('clockState', p.clockState, 'unsynced' as ClockState);
    const message: Telemetry = {
      ts: nowMs,
      uptimeSec: Math.round(await this.get('uptimeSec', p.uptimeSec, process.uptime())),
      version: p.version,
      bootId: p.bootId ?? BOOT_ID,
      memory: await this.get('memory', p.memory ?? processMemory, {
        rssBytes: 0,
        heapUsedBytes: 0,
      }),
      cpuTempC: await readCpuTempC(p.cpuTempPath ?? CPU_TEMP_PATH),
      diskFreeBytes: p.storeDir === undefined ? null : await diskFreeBytes(p.storeDir),
      outbox: {
        depth: await this.get('outboxDepth', p.outboxDepth, null),
        oldestUndeliveredAgeSec:
          oldest === undefined ? null : Math.max(0, Math.round((nowMs - oldest) / 1000)),
        setAside: await this.get('setAside', p.setAside, null),
      },
      scanner: await this.get('scanner', p.scanner, { connected: false }),
      lastScanTs: (await this.get('lastScanTs', p.lastScanTs, undefined)) ?? null,
      counts: { byType: counts.events, byReason: counts.denials },
      clock: {
        state,
        everSynced: state === 'synced',
        floorTs: null,
        jumps: 0,
        ...(await this.get('clock', p.clock, {})),
      },
      trustVersion: (await this.get('trustVersion', p.trustVersion, undefined)) ?? null,
      revocations: { ...NO_REVOCATIONS, ...(await this.get('revocations', p.revocations, {})) },
      maintenance: await this.get('maintenance', p.maintenance, false),
      abuse: { lockedOut: false, lockouts: 0, ...(await this.get('abuse', p.abuse, {})) },
      link: { ...(await this.get('link', p.link, {})) },
    };
    const store = await this.get('store', p.store, undefined);
    if (store !== undefined) message.store = { ...store };
    return message;
  }

  private async get<T>(name: string, provider: Maybe<T> | undefined, fallback: T): Promise<T> {
    if (provider === undefined) return fallback;
    try {
      return await provider();
    } catch (err) {
      this.log?.debug({ err, figure: name }, 'telemetry figure not available');
      return fallback;
    }
  }
}

const NO_REVOCATIONS: RevocationTelemetry = {
  seq: null,
  entries: 0,
  waitingForSnapshot: false,
  lastUpdateTs: null,
  stale: false,
};

function processMemory(): { rssBytes: number; heapUsedBytes: number } {
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed };
}

/**
 * The CPU temperature in °C with one decimal, from a sysfs file in millidegrees; null when the
 * board has no such file or it holds no number (a container, a PC without thermal zones).
 */
export async function readCpuTempC(path: string): Promise<number | null> {
  try {
    const text = (await readFile(path, 'utf8')).slice(0, 32).trim();
    if (!/^-?\d+$/.test(text)) return null;
    return Math.round(Number(text) / 100) / 10;
  } catch {
    return null;
  }
}

/** Bytes free for an unprivileged writer on the filesystem holding `dir`; null if unknown. */
export async function diskFreeBytes(dir: string): Promise<number | null> {
  try {
    const stats = await statfs(dir);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return null;
  }
}

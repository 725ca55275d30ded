import { HourCounts } from './hour-counts.js';
import type { EventPayload, ResultPayload } from './payloads.js';

/** A gate's connection as its last `status` said; `unknown` before any status arrived. */
export type GateState = 'online' | 'degraded' | 'offline' | 'lost' | 'unknown';

/** The latest event of a gate, as shown. */
export interface LastEvent {
  id: string;
  type: string;
  reason: string | undefined;
  ts: number;
}

/** An alarm seen in the last hour (the newest time per reason). */
export interface SeenAlarm {
  reason: string;
  ts: number;
}

/** Most event ids remembered per gate to drop at-least-once duplicates. */
const REMEMBERED_IDS = 512;

/** Most distinct alarm reasons kept per gate. */
const MAX_ALARMS = 16;

const HOUR_MS = 3_600_000;

/** Everything operations know about one gate. Mutable; owned by {@link FleetState}. */
export class GateRecord {
  state: GateState = 'unknown';
  session: number | undefined;
  /** Receive time of the last status (a `lost` will carries its connection time, not the loss). */
  stateSinceMs: number | undefined;
  statusReasons: string[] = [];
  version: string | undefined;
  trustVersion: string | undefined;
  lastEvent: LastEvent | undefined;
  outboxDepth: number | undefined;
  telemetryFlags: string[] = [];
  telemetryMs: number | undefined;
  lastResult: ResultPayload | undefined;
  lastSeenMs: number;
  readonly hour = new HourCounts();
  private readonly alarms = new Map<string, number>();
  private readonly seenIds = new Set<string>();

  constructor(
    readonly site: string,
    readonly gate: string,
    nowMs: number,
  ) {
    this.lastSeenMs = nowMs;
  }

  get key(): string {
    return `${this.site}/${this.gate}`;
  }

  /** Records an event; false when its id was seen before (delivery is at least once). */
  addEvent(event: EventPayload, nowMs: number): boolean {
    if (this.seenIds.has(event.id)) return false;
    this.seenIds.add(event.id);
    if (this.seenIds.size > REMEMBERED_IDS) {
      const oldest = this.seenIds.values().next().value;
      if (oldest !== undefined) this.seenIds.delete(oldest);
    }
    if (this.lastEvent === undefined || event.ts >= this.lastEvent.ts)
      this.lastEvent = { id: event.id, type: event.type, reason: event.reason, ts: event.ts };
    if (event.type === 'alarm') this.addAlarm(event.reason ?? 'unknown', event.ts);
    this.hour.add(event.type, event.reason, event.ts, nowMs);
    return true;
  }

  /**
   * Open alarms: alarm events of the last hour, the reasons of a `degraded` status and the
   * conditions telemetry reports (e.g. `revocations_stale`). Alarms have no clearing event in
   * the contract, so an alarm event counts as open for an hour.
   */
  openAlarms(nowMs: number): string[] {
    const open = new Set<string>();
    for (const [reason, ts] of this.alarms) if (nowMs - ts < HOUR_MS) open.add(reason);
    if (this.state === 'degraded') for (const r of this.statusReasons) open.add(r);
    for (const flag of this.telemetryFlags) open.add(flag);
    return [...open];
  }

  private addAlarm(reason: string, ts: number): void {
    this.alarms.delete(reason);
    this.alarms.set(reason, ts);
    if (this.alarms.size > MAX_ALARMS) {
      const oldest = this.alarms.keys().next().value;
      if (oldest !== undefined) this.alarms.delete(oldest);
    }
  }
}

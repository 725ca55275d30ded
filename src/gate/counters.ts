import type { GateEvent } from '../event.js';

/** Counts of events by type and of denials by reason since boot, for telemetry. */
export class EventCounters {
  private readonly byType: Record<string, number> = {};
  private readonly byReason: Record<string, number> = {};
  lastScanTs: number | undefined;

  add(event: Pick<GateEvent, 'type' | 'reason' | 'ts'>): void {
    this.byType[event.type] = (this.byType[event.type] ?? 0) + 1;
    if (event.type === 'deny' && event.reason !== undefined) {
      this.byReason[event.reason] = (this.byReason[event.reason] ?? 0) + 1;
    }
    if (event.type === 'admit' || event.type === 'deny' || event.type === 'reopen') {
      this.lastScanTs = event.ts;
    }
  }

  snapshot(): { events: Record<string, number>; denials: Record<string, number> } {
    return { events: { ...this.byType }, denials: { ...this.byReason } };
  }
}

import { GateRecord } from './gate-record.js';
import {
  type EventPayload,
  MAX_PAYLOAD_BYTES,
  type Parsed,
  parseEvent,
  parseInfo,
  parseObject,
  parseResult,
  parseStatus,
  parseTelemetry,
  payloadText,
  type StatusPayload,
  safeText,
} from './payloads.js';
import { type FleetTopic, type GateTopicKind, parseFleetTopic } from './topic.js';

/** One event as the fleet's event list shows it. */
export interface FleetEvent extends EventPayload {
  site: string;
  gate: string;
  /** When operations received it, ms. */
  receivedMs: number;
}

/**
 * What one message did to the fleet state:
 * - `changed`: a gate's state changed; `line` says how, for a log or a pipe.
 * - `unchanged`: valid, but nothing shown changed (e.g. telemetry with the same figures).
 * - `duplicate`: an event id seen before; `stale`: a `lost` will from an older session.
 * - `rejected`: the payload was too large or invalid; `error` says why.
 * - `full`: a new gate past the gate limit; `ignored`: not a gate topic under the prefix.
 */
export type FleetUpdate =
  | { kind: 'changed'; gate: GateRecord; topic: GateTopicKind; line: string; event?: FleetEvent }
  | { kind: 'unchanged' | 'duplicate' | 'stale'; gate: GateRecord }
  | { kind: 'rejected'; site: string; gate: string; topic: GateTopicKind; error: string }
  | { kind: 'full'; site: string; gate: string }
  | { kind: 'ignored' };

export interface FleetStateOptions {
  /** Topic prefix, e.g. `ridergate/v1`. */
  prefix: string;
  /** Most gates tracked; messages of further gates are counted and dropped. Default 2000. */
  maxGates?: number;
  /** Most events kept in the recent list. Default 500. */
  maxEvents?: number;
}

/**
 * The fleet as operations see it, folded from the messages gates publish. Pure and bounded:
 * no I/O, no timers, at most `maxGates` gates and `maxEvents` recent events; a bad payload is
 * an update of kind `rejected`, never an exception.
 */
export class FleetState {
  private readonly gates = new Map<string, GateRecord>();
  private readonly recent: FleetEvent[] = [];
  private readonly maxGates: number;
  private readonly maxEvents: number;
  /** Messages rejected (invalid, too large) and dropped (gate limit) so far. */
  readonly counts = { rejected: 0, dropped: 0 };

  constructor(private readonly options: FleetStateOptions) {
    this.maxGates = options.maxGates ?? 2000;
    this.maxEvents = options.maxEvents ?? 500;
  }

  /** Every gate, sorted by site then gate, numbers in names by value (g2 before g10). */
  list(): GateRecord[] {
    return [...this.gates.values()].sort((a, b) =>
      a.key.localeCompare(b.key, 'en', { numeric: true }),
    );
  }

  /** The most recent events, newest first. */
  events(): readonly FleetEvent[] {
    return this.recent;
  }

  /** Folds one message in. Never throws. */
  apply(topic: string, payload: Uint8Array | string, nowMs: number): FleetUpdate {
    const where = parseFleetTopic(this.options.prefix, topic);
    if (where === undefined) return { kind: 'ignored' };
    const site = safeText(where.site);
    const gateId = safeText(where.gate);
    const object = this.read(where, payload);
    if (!object.ok) return this.reject(site, gateId, where.kind, object.error);
    const record = this.record(site, gateId, nowMs);
    if (record === undefined) {
      this.counts.dropped += 1;
      return { kind: 'full', site, gate: gateId };
    }
    record.lastSeenMs = nowMs;
    const update = this.fold(record, where.kind, object.value, nowMs);
    if (update.kind === 'rejected') this.counts.rejected += 1;
    return update;
  }

  private read(where: FleetTopic, payload: Uint8Array | string): Parsed<Record<string, unknown>> {
    const text = payloadText(payload, MAX_PAYLOAD_BYTES[where.kind]);
    return text.ok ? parseObject(text.value) : text;
  }

  private reject(site: string, gate: string, topic: GateTopicKind, error: string): FleetUpdate {
    this.counts.rejected += 1;
    return { kind: 'rejected', site, gate, topic, error };
  }

  private record(site: string, gate: string, nowMs: number): GateRecord | undefined {
    const key = `${site}/${gate}`;
    const found = this.gates.get(key);
    if (found !== undefined) return found;
    if (this.gates.size >= this.maxGates) return undefined;
    const fresh = new GateRecord(site, gate, nowMs);
    this.gates.set(key, fresh);
    return fresh;
  }

  private fold(
    g: GateRecord,
    kind: GateTopicKind,
    o: Record<string, unknown>,
    nowMs: number,
  ): FleetUpdate {
    const reject = (error: string): FleetUpdate => ({
      kind: 'rejected',
      site: g.site,
      gate: g.gate,
      topic: kind,
      error,
    });
    switch (kind) {
      case 'status': {
        const p = parseStatus(o);
        if (!p.ok) return reject(p.error);
        return this.foldStatus(g, p.value, nowMs);
      }
      case 'events': {
        const p = parseEvent(o);
        if (!p.ok) return reject(p.error);
        return this.foldEvent(g, p.value, nowMs);
      }
      case 'telemetry': {
        const p = parseTelemetry(o);
        if (!p.ok) return reject(p.error);
        const before = `${g.outboxDepth}|${g.telemetryFlags.join(',')}`;
        g.outboxDepth = p.value.outboxDepth;
        g.telemetryFlags = p.value.flags;
        g.telemetryMs = nowMs;
        if (p.value.version !== undefined) g.version = p.value.version;
        if (`${g.outboxDepth}|${g.telemetryFlags.join(',')}` === before)
          return { kind: 'unchanged', gate: g };
        const flags = p.value.flags.length > 0 ? ` flags=${p.value.flags.join(',')}` : '';
        return changed(g, kind, `telemetry outbox=${g.outboxDepth ?? '?'}${flags}`);
      }
      case 'info': {
        const p = parseInfo(o);
        if (!p.ok) return reject(p.error);
        g.version = p.value.version;
        g.trustVersion = p.value.trustVersion;
        return changed(g, kind, `info version=${g.version ?? '?'} trust=${g.trustVersion ?? '?'}`);
      }
      case 'result': {
        const p = parseResult(o);
        if (!p.ok) return reject(p.error);
        g.lastResult = p.value;
        const outcome = p.value.ok ? 'ok' : `failed error=${p.value.error ?? '?'}`;
        return changed(g, kind, `result ${p.value.cmd ?? '?'} ${outcome} id=${p.value.id}`);
      }
    }
  }

  private foldStatus(g: GateRecord, s: StatusPayload, nowMs: number): FleetUpdate {
    // A will is built at connect time with that connection's session: a `lost` older than the
    // session already seen online is the broker replaying a stale will (DESIGN.md).
    const current = g.session;
    if (s.state === 'lost' && current !== undefined && s.session !== undefined) {
      if (s.session < current) return { kind: 'stale', gate: g };
    }
    g.state = s.state;
    g.session = s.session ?? g.session;
    g.stateSinceMs = nowMs;
    g.statusReasons = s.reasons;
    const reasons = s.reasons.length > 0 ? ` reasons=${s.reasons.join(',')}` : '';
    return changed(g, 'status', `status ${s.state} session=${s.session ?? '?'}${reasons}`);
  }

  private foldEvent(g: GateRecord, e: EventPayload, nowMs: number): FleetUpdate {
    if (!g.addEvent(e, nowMs)) return { kind: 'duplicate', gate: g };
    const event: FleetEvent = { ...e, site: g.site, gate: g.gate, receivedMs: nowMs };
    this.recent.unshift(event);
    if (this.recent.length > this.maxEvents) this.recent.length = this.maxEvents;
    const reason = e.reason === undefined ? '' : ` reason=${e.reason}`;
    return { ...changed(g, 'events', `event ${e.type}${reason}`), event };
  }
}

function changed(
  gate: GateRecord,
  topic: GateTopicKind,
  line: string,
): FleetUpdate & { kind: 'changed' } {
  return { kind: 'changed', gate, topic, line: `${gate.key} ${line}` };
}

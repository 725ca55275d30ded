import type { GateTopicKind } from './topic.js';

/** Largest payload read per topic kind, bytes; a larger one is rejected unparsed. */
export const MAX_PAYLOAD_BYTES: Record<GateTopicKind, number> = {
  status: 2_048,
  info: 16_384,
  events: 16_384,
  telemetry: 65_536,
  result: 16_384,
};

/** Longest text kept from a payload field, characters; longer text is cut with `…`. */
const MAX_TEXT = 120;

/** A gate's `status`: `{state, ts, session}`, `reasons` when degraded. */
export interface StatusPayload {
  state: 'online' | 'degraded' | 'offline' | 'lost';
  ts: number;
  session: number | undefined;
  reasons: string[];
}

/** The fields of a gate event that operations show. */
export interface EventPayload {
  id: string;
  type: string;
  ts: number;
  reason: string | undefined;
  detail: string | undefined;
  seq: number | undefined;
  replay: boolean;
}

/** What operations read from telemetry; every field may be missing (older gates, partial). */
export interface TelemetryPayload {
  ts: number | undefined;
  outboxDepth: number | undefined;
  /** Conditions telemetry reports that count as open alarms, e.g. `revocations_stale`. */
  flags: string[];
  version: string | undefined;
}

export interface InfoPayload {
  version: string | undefined;
  trustVersion: string | undefined;
}

/** A `cmd/result`: `{id, ok, cmd?, error?, ts}`. */
export interface ResultPayload {
  id: string | null;
  ok: boolean;
  cmd: string | undefined;
  error: string | undefined;
  ts: number | undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

type Json = Record<string, unknown>;

const STATES = ['online', 'degraded', 'offline', 'lost'] as const;
const WORD = /^[a-z][a-z0-9_]{0,47}$/;

/** Bytes of a payload as received (mqtt.js gives a Buffer, a browser a Uint8Array). */
export function payloadText(payload: Uint8Array | string, maxBytes: number): Parsed<string> {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size > maxBytes) return fail(`payload of ${size} bytes is over the ${maxBytes} limit`);
  const text = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
  return { ok: true, value: text };
}

/** Parses JSON text into an object, or says why it is not one. */
export function parseObject(text: string): Parsed<Json> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('payload is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('payload is not a JSON object');
  return { ok: true, value: value as Json };
}

export function parseStatus(o: Json): Parsed<StatusPayload> {
  const state = STATES.find((s) => s === o.state);
  if (state === undefined) return fail(`status.state is not one of ${STATES.join(', ')}`);
  if (!isTime(o.ts)) return fail('status.ts is not a time in ms');
  // A gate before sessions sent none; one it sends must be a count, or stale wills cannot be told.
  if (o.session !== undefined && count(o.session) === undefined)
    return fail('status.session is not a whole number');
  const reasons = Array.isArray(o.reasons) ? o.reasons.slice(0, 8).map(safeText) : [];
  return { ok: true, value: { state, ts: o.ts, session: count(o.session), reasons } };
}

export function parseEvent(o: Json): Parsed<EventPayload> {
  if (typeof o.id !== 'string' || o.id.length === 0 || o.id.length > 64)
    return fail('event.id is not a string of 1 to 64 characters');
  if (typeof o.type !== 'string' || !WORD.test(o.type)) return fail('event.type is not a word');
  if (!isTime(o.ts)) return fail('event.ts is not a time in ms');
  const reason = optionalText(o.reason);
  return {
    ok: true,
    value: {
      id: o.id,
      type: o.type,
      ts: o.ts,
      reason,
      detail: optionalText(o.detail),
      seq: count(o.seq),
      replay: o.replay === true,
    },
  };
}

/** Reads the few telemetry fields operations show, both the nested and the older flat form. */
export function parseTelemetry(o: Json): Parsed<TelemetryPayload> {
  const outbox = object(o.outbox);
  return {
    ok: true,
    value: {
      ts: isTime(o.ts) ? o.ts : undefined,
      outboxDepth: count(outbox?.depth) ?? count(o.outboxDepth),
      flags: telemetryFlags(o),
      version: optionalText(o.version),
    },
  };
}

/** The conditions in a telemetry message that operations should see as alarms. */
function telemetryFlags(o: Json): string[] {
  const checks: [string, boolean][] = [
    ['revocations_stale', object(o.revocations)?.stale === true],
    ['revocations_gap', object(o.revocations)?.waitingForSnapshot === true],
    ['locked_out', object(o.abuse)?.lockedOut === true],
    ['maintenance', o.maintenance === true],
    ['scanner_disconnected', object(o.scanner)?.connected === false],
    ['store_unavailable', object(o.store)?.storeHealthy === false],
    ['clock_unsynced', object(o.clock)?.state === 'unsynced'],
    ['client_id_conflict', object(o.link)?.clientIdConflict === true],
  ];
  return checks.filter(([, on]) => on).map(([flag]) => flag);
}

export function parseInfo(o: Json): Parsed<InfoPayload> {
  const trust = o.trustVersion;
  return {
    ok: true,
    value: {
      version: optionalText(o.version),
      trustVersion: typeof trust === 'number' ? String(trust) : optionalText(trust),
    },
  };
}

export function parseResult(o: Json): Parsed<ResultPayload> {
  if (typeof o.ok !== 'boolean') return fail('result.ok is not a boolean');
  const id = typeof o.id === 'string' ? safeText(o.id) : null;
  return {
    ok: true,
    value: {
      id,
      ok: o.ok,
      cmd: optionalText(o.cmd),
      error: optionalText(o.error),
      ts: isTime(o.ts) ? o.ts : undefined,
    },
  };
}

/**
 * Text from the broker made safe to show: control characters (terminal escapes), and bidi
 * overrides replaced by `?`, cut to {@link MAX_TEXT} characters.
 */
export function safeText(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT - 1)}…` : clean;
}

function optionalText(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? safeText(value) : undefined;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 1e14;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

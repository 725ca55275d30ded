/** Event types a gate reports; see DESIGN.md "MQTT contract". */
export type EventType =
  | 'admit'
  | 'deny'
  | 'reopen'
  | 'remote_open'
  | 'manual_open'
  | 'alarm'
  | 'boot';

/** Whether the wall clock is known to be NTP-synchronised when the event was made. */
export type ClockState = 'synced' | 'unsynced';

/**
 * One gate event as journaled and as published on `{p}/{site}/{gate}/events`.
 * Field names are the wire names.
 */
export interface GateEvent {
  /** UUIDv7: ids sort by time; consumers de-duplicate on it. */
  id: string;
  /** Per-gate sequence number: persisted, never reused, survives restarts. */
  seq: number;
  /** UTC time of the decision, ms since the epoch. */
  ts: number;
  clock: ClockState;
  site: string;
  gate: string;
  type: EventType;
  /** Deny or alarm reason, e.g. `bad_signature`. */
  reason?: string;
  /** For alarms: one line a person can act on, e.g. where a corrupt database was moved. */
  detail?: string;
  iss?: string;
  /** The rider's pseudonymous id (or its salted hash in privacy mode). */
  sub?: string;
  /** Token id, lowercase hex. */
  cti?: string;
  /** Time from the scan's last byte to the decision, in microseconds. */
  decisionUs?: number;
  /** Set when the event is delivered from a backlog after an outage. */
  replay?: true;
}

/** An event before the store has given it its `seq`. */
export type EventDraft = Omit<GateEvent, 'seq'>;

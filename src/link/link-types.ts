import type { Clock } from '../clock.js';
import type { SetAsideStore, Store } from '../store/types.js';
import type { ConflictSettings } from './conflict-detector.js';
import type { MqttSubscription } from './subscriptions.js';

/*
 * The settings, dependencies and counters of the MQTT link (mqtt-link.ts), apart from the
 * link itself so that both read in one sitting.
 */

/** Settings of the link; `mqtt` section of the configuration plus what the daemon knows. */
export interface MqttLinkOptions {
  /** Broker URL: `mqtt://`, `mqtts://`, `tcp://`, `tls://`, `ws://`, `wss://`. */
  url: string;
  /** Default `{site}-{gate}`, so the broker can confine each gate to its own topics. */
  clientId?: string;
  username?: string;
  password?: string;
  /** Topic prefix, e.g. `ridergate/v1`. */
  prefix: string;
  site: string;
  gate: string;
  /** Telemetry period, seconds. Not validated here. */
  telemetrySec: number;
  /** PEM files for TLS, read at start. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Turns broker certificate verification off (`mqtt.tlsInsecure`); default false. */
  tlsInsecure?: boolean | undefined;
  /** Software version, published in `info`. */
  version: string;
  /** Hash of the effective configuration, published in `info`. */
  configHash?: string;
  /** Version of the trust list in force, read each time `info` is published. */
  trustVersion?: () => number | undefined;
  /** Device drivers and profiles in use, e.g. `{ scanner: 'serial', relay: 'onoff' }`. */
  devices?: Record<string, string>;
  /** Process start, ms since the epoch; published in `info` as `bootTs`. */
  bootMs: number;
  /** Bounds of the random wait between reconnection attempts, ms; default 1000–5000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Wait for the broker's CONNACK, ms; default 10000. */
  connectTimeoutMs?: number;
  /** MQTT keepalive, seconds; the broker sends the will after 1.5 × this. Default 30. */
  keepaliveSec?: number;
  /**
   * Time without a connection after which the client is torn down and built again with fresh
   * options (`mqtt.rebuildAfterSec`), seconds; default {@link DEFAULT_REBUILD_AFTER_SEC}.
   */
  rebuildAfterSec?: number;
  /** Thresholds of the client id conflict heuristic (field case M1); see CONFLICT_DEFAULTS. */
  clientIdConflict?: Partial<ConflictSettings>;
  /** Most outbox events published per second while a backlog drains; default 200. */
  drainPerSec?: number;
  /**
   * Largest event payload (JSON, bytes) published; a larger event is set aside at once as
   * refused, with an `event_undeliverable` alarm, and delivered after a start with a limit it
   * fits. Keep it at or below the broker's limit (mosquitto: `message_size_limit`), which a
   * broker may enforce by acknowledging and dropping the message: the gate could not tell.
   * Default {@link DEFAULT_MAX_EVENT_BYTES}.
   */
  maxEventBytes?: number;
  /** Wait for an event's PUBACK before the publish counts as failed, ms; default 10000. */
  publishTimeoutMs?: number;
  /** Failed publishes of one event before it is set aside as suspected; default 3. */
  maxPublishAttempts?: number;
  /**
   * Time between two rounds of retries of set-aside events while connected, ms; default
   * 60000 (DEFAULT_SWEEP_MS). Internal: not in the configuration.
   */
  asideSweepMs?: number;
  /**
   * First retry of a suspected event after this long, ms; then doubling up to
   * `asideRetryMaxMs`. Defaults 10 minutes and 24 hours (aside-retries.ts). Internal: not in
   * the configuration.
   */
  asideRetryMinMs?: number;
  asideRetryMaxMs?: number;
  /**
   * Wait for a retained copy after the SUBACK in {@link MqttLink.heldRetained}, ms; default
   * {@link DEFAULT_RETAINED_WAIT_MS}. Internal: not in the configuration.
   */
  retainedWaitMs?: number;
}

/** Why the link raises an alarm. */
export type LinkAlarmReason = 'client_id_conflict' | 'event_undeliverable';

/** What the link uses from the rest of the gate. */
export interface MqttLinkDeps {
  /**
   * The outbox (undelivered events) and the persisted session counter. The set-aside methods
   * (SqliteStore has them) keep set-aside events and their retry schedule; without them such an
   * event is skipped until the process restarts.
   */
  store: Store & Partial<SetAsideStore>;
  /** Health figures for the telemetry topic (see TelemetryBuilder); `ts` is set at sending. */
  telemetry: () => object | Promise<object>;
  clock: Clock;
  /**
   * Receives a trust list published on `{p}/_fleet/trust` (a compact JWS). The link only bounds
   * its size; the receiver verifies it. Never called for a payload over MAX_FLEET_PAYLOAD_BYTES.
   */
  onTrustList?: (jws: string, source: string) => Promise<void>;
  /**
   * Called once per episode of a condition operations must act on: `client_id_conflict`
   * (another client uses this gate's client id; `detail` names it) or `event_undeliverable`
   * (an event was set aside, once per event, not again at its failed retries; `detail` names
   * its seq and id, the kind and when it is retried).
   * A rejection or throw is logged, never passed on.
   */
  onAlarm?: (reason: LinkAlarmReason, detail: string) => void | Promise<void>;
  /**
   * Topics subscribed at every connection (commands, revocation lists), each message handed to
   * its handler from the link's one `message` listener (field case M3).
   */
  subscriptions?: readonly MqttSubscription[];
}

/** Largest fleet message (trust list) accepted, bytes; a larger one is dropped and logged. */
export const MAX_FLEET_PAYLOAD_BYTES = 2 * 1024 * 1024;

/** Counters of the link, for telemetry and `doctor`. */
export interface LinkStats {
  connected: boolean;
  /** Session number of the current (or last) connection; 0 before the first. */
  session: number;
  connects: number;
  disconnects: number;
  eventsPublished: number;
  publishFailures: number;
  /** Events set aside since start (field case M4). */
  eventsSetAside: number;
  /** Retries of set-aside events published since start, acknowledged or not. */
  setAsideRetries: number;
  /** Set-aside events delivered by a retry since start. */
  setAsideDelivered: number;
  /** Messages held in the MQTT client's memory (queued or awaiting PUBACK); stays ~0 offline. */
  clientHeld: number;
  telemetrySent: number;
  /** Times the client was torn down and built again after a long time without a connection. */
  rebuilds: number;
  /** True while another client with the same id is suspected (field case M1). */
  clientIdConflict: boolean;
}

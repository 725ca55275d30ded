import { connect, type IClientOptions, type ISubscriptionMap, type MqttClient } from 'mqtt';
import { describeError, RidergateError } from '../errors.js';
import type { GateEvent } from '../event.js';
import type { Logger } from '../log.js';
import { buildClientOptions, checkBrokerUrl, jitterMs, redactUrl } from './client-options.js';
import { ConflictDetector } from './conflict-detector.js';
import {
  type LinkStats,
  MAX_FLEET_PAYLOAD_BYTES,
  type MqttLinkDeps,
  type MqttLinkOptions,
} from './link-types.js';
import { clientHeld, seconds, withTimeout } from './link-util.js';
import { OutboxPump, undeliverableError } from './outbox-pump.js';
import { ReplayMarker } from './replay-marker.js';
import { DEFAULT_RETAINED_WAIT_MS, RetainedProbes } from './retained-probe.js';
import { dispatchMessage, type MqttSubscription } from './subscriptions.js';
import { ConnectionSupervisor, DEFAULT_REBUILD_AFTER_SEC } from './supervisor.js';
import { tlsHint } from './tls-hint.js';
import { type FleetTopics, fleetTopics, type GateTopics, gateTopics } from './topics.js';
import { TrackedPublisher } from './tracked-publish.js';

export type { LinkAlarmReason, LinkStats, MqttLinkDeps, MqttLinkOptions } from './link-types.js';
export { MAX_FLEET_PAYLOAD_BYTES } from './link-types.js';

/** Settings key of the connection counter sent as `session` in status messages. */
export const SESSION_KEY = 'mqtt.session';

/** Default largest event payload published, bytes (`mqtt.maxEventBytes`). */
export const DEFAULT_MAX_EVENT_BYTES = 16_384;

/** An event as published: with `replay: true` when it comes from a backlog. */
function eventPayload(event: GateEvent, replay: boolean): string {
  return JSON.stringify(replay ? { ...event, replay: true } : event);
}

/** Default wait for an event's PUBACK before it counts as a failed publish, ms. */
const PUBLISH_TIMEOUT_MS = 10_000;

/** Longest wait for the `offline` status and the DISCONNECT at stop. */
const STOP_TIMEOUT_MS = 3_000;

type StatusState = 'online' | 'offline' | 'lost';

/**
 * The gate's MQTT link: retained status with a `lost` last will, retained info, outbox
 * delivery with QoS 1 in seq order, and telemetry. Works offline: start() never waits for the
 * broker, mqtt.js reconnects on its own, and broker errors are logged, never thrown.
 * Only the event in flight is ever in mqtt.js's memory: while disconnected the pump publishes
 * nothing, the backlog stays in the store (field case M5). An event in flight when the
 * connection drops is taken back and published again by the pump (see TrackedPublisher).
 * Speaks MQTT 3.1.1 (aedes has no MQTT 5), so a broker gives no reason when it closes the
 * connection; a kick-off loop with another client of the same id is found by a heuristic
 * ({@link ConflictDetector}), which then stretches the reconnect wait instead of fighting.
 * A {@link ConnectionSupervisor} rebuilds the client when it has not connected for
 * `rebuildAfterSec`; handlers are attached once per client (field case M3), and the outbox
 * pump always publishes through the current client.
 */
export class MqttLink {
  private readonly options: MqttLinkOptions;
  /** Connection errors seen since the last connection, by kind, and how often each repeated. */
  private readonly errorRepeats = new Map<string, number>();
  private readonly deps: MqttLinkDeps;
  private readonly log: Logger;
  private readonly topics: GateTopics;
  private readonly fleet: FleetTopics;
  private readonly pump: OutboxPump;
  private readonly conflict: ConflictDetector;
  private readonly replay = new ReplayMarker();
  private readonly publisher = new TrackedPublisher();
  private readonly probes = new RetainedProbes();
  private readonly clientId: string;
  /** The trust list being handled, if any: lists are handled one after the other. */
  private trustQueue: Promise<void> = Promise.resolve();
  /** Every topic subscribed at each connection: the caller's, and the fleet trust list. */
  private readonly subscriptions: readonly MqttSubscription[];
  private readonly supervisor: ConnectionSupervisor;
  /** Clients torn down by the supervisor: what they still emit is ignored. */
  private readonly retired = new WeakSet<MqttClient>();
  private client: MqttClient | undefined;
  private telemetryTimer: NodeJS.Timeout | undefined;
  private telemetryBusy = false;
  private stopping = false;
  private session = 0;
  private nextSession = 1;
  /** Monotonic ms of the current connection's CONNACK; undefined while disconnected. */
  private connectedAtMono: number | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private counters = { connects: 0, disconnects: 0, telemetrySent: 0, rebuilds: 0 };

  /** @throws RidergateError `link_failed` when prefix, site or gate cannot form topics. */
  constructor(options: MqttLinkOptions, deps: MqttLinkDeps, log: Logger) {
    this.options = options;
    this.deps = deps;
    this.log = log.child({ component: 'link' });
    this.topics = gateTopics(options.prefix, options.site, options.gate);
    this.fleet = fleetTopics(options.prefix);
    this.clientId = options.clientId ?? `${options.site}-${options.gate}`;
    const trust = this.trustSubscription();
    this.subscriptions = [...(deps.subscriptions ?? []), ...(trust === undefined ? [] : [trust])];
    this.conflict = new ConflictDetector(options.clientIdConflict);
    this.pump = new OutboxPump({
      store: deps.store,
      publish: (event, opts) => this.publishEvent(event, opts?.backlog === true),
      canPublish: () => this.isConnected(),
      onSetAside: (_event, detail) => this.raiseUndeliverable(detail),
      // A set-aside event is retried late: it goes with `replay: true`.
      fits: (event) => Buffer.byteLength(eventPayload(event, true)) <= this.maxEventBytes(),
      nowMs: () => deps.clock.nowMs(),
      log: this.log,
      drainPerSec: options.drainPerSec,
      maxAttempts: options.maxPublishAttempts,
      sweepMs: options.asideSweepMs,
      asideRetryMinMs: options.asideRetryMinMs,
      asideRetryMaxMs: options.asideRetryMaxMs,
    });
    this.supervisor = new ConnectionSupervisor({
      rebuildAfterMs: (options.rebuildAfterSec ?? DEFAULT_REBUILD_AFTER_SEC) * 1000,
      monoMs: () => deps.clock.monoMs(),
      isConnected: () => this.isConnected(),
      rebuild: (downMs) => this.rebuild(downMs),
    });
  }

  /**
   * Starts connecting in the background and returns at once, broker reachable or not.
   * @throws RidergateError `link_failed` when a TLS file cannot be read or the URL is unusable
   * (not a URL, an unknown scheme, no host).
   */
  async start(): Promise<void> {
    if (this.client !== undefined) return;
    checkBrokerUrl(this.options.url);
    this.stopping = false;
    this.nextSession = (await this.readSession()) + 1;
    this.client = this.createClient();
    this.startTelemetry();
    this.pump.start();
    this.supervisor.start();
    this.log.info({ url: redactUrl(this.options.url), clientId: this.clientId }, 'link started');
  }

  /**
   * Builds an mqtt.js client with options made afresh (TLS files read again) and attaches the
   * link's handlers to it, once for the client's life.
   * @throws RidergateError `link_failed` when a TLS file cannot be read or mqtt.js refuses.
   */
  private createClient(): MqttClient {
    const minMs = this.options.reconnectMinMs ?? 1_000;
    const maxMs = this.options.reconnectMaxMs ?? 5_000;
    const clientOptions = buildClientOptions({
      clientId: this.clientId,
      username: this.options.username,
      password: this.options.password,
      caFile: this.options.caFile,
      certFile: this.options.certFile,
      keyFile: this.options.keyFile,
      url: this.options.url,
      tlsInsecure: this.options.tlsInsecure,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      keepaliveSec: this.options.keepaliveSec ?? 30,
      reconnectMs: jitterMs(minMs, maxMs),
    });
    clientOptions.will = this.will();
    let client: MqttClient;
    try {
      client = connect(this.options.url, clientOptions);
    } catch (err) {
      throw new RidergateError('link_failed', 'cannot create the mqtt client', {
        cause: err,
        context: { field: 'mqtt.url', value: redactUrl(this.options.url) },
      });
    }
    this.attach(client, minMs, maxMs);
    return client;
  }

  /**
   * Tears the client down (no DISCONNECT: there is no connection) and builds a new one. The
   * old client is ended for good (it never reconnects) and its handlers ignore what it may
   * still emit; an event it held in flight goes back to the pump. A failed build is logged and
   * tried again at the supervisor's next turn.
   */
  private rebuild(downMs: number): void {
    // During a client id conflict the client connects at every attempt (and is cut): it is not
    // stuck, and a fresh client would connect at once, cutting the conflict backoff short.
    if (this.stopping || this.conflict.inConflict) return;
    const old = this.client;
    this.client = undefined;
    if (old !== undefined) {
      this.retired.add(old);
      old.end(true);
    }
    this.publisher.connectionClosed();
    this.probes.connectionLost();
    this.connectedAtMono = undefined;
    this.counters.rebuilds += 1;
    const fields = { downSec: Math.round(downMs / 1000), rebuilds: this.counters.rebuilds };
    try {
      this.client = this.createClient();
      this.log.warn({ ...fields, clientId: this.clientId }, 'mqtt client rebuilt');
    } catch (err) {
      this.log.error({ ...fields, err }, 'mqtt client not rebuilt');
    }
  }

  /** Asks the outbox pump to deliver what is waiting; call after each record. Never throws. */
  notify(): void {
    this.pump.notify();
  }

  /** True while a connection to the broker is up. */
  isConnected(): boolean {
    return !this.stopping && this.client?.connected === true;
  }

  stats(): LinkStats {
    return {
      connected: this.isConnected(),
      session: this.session,
      ...this.counters,
      eventsPublished: this.pump.published,
      publishFailures: this.pump.failures,
      eventsSetAside: this.pump.setAsideCount,
      setAsideRetries: this.pump.asideStats.retries,
      setAsideDelivered: this.pump.asideStats.delivered,
      clientHeld: this.client === undefined ? 0 : clientHeld(this.client),
      clientIdConflict: this.conflict.inConflict,
    };
  }

  /**
   * Publishes one message (e.g. a command result) while connected.
   * @throws Error when the link is not connected: nothing is queued in the client's memory.
   */
  async publish(
    topic: string,
    payload: string,
    opts: { qos: 0 | 1; retain?: boolean },
  ): Promise<void> {
    const client = this.client;
    if (client === undefined || !this.isConnected()) throw new Error('not connected');
    await client.publishAsync(topic, payload, { qos: opts.qos, retain: opts.retain === true });
  }

  /**
   * Whether the broker holds `payload` retained on `topic` (field case M2). A message
   * published with retain reaches subscribers already connected without the flag (MQTT 3.1.1
   * §3.3.1.3), so a live command may be retained all the same. Re-subscribes to the topic
   * (same QoS: the subscription is replaced, its flow not interrupted, and the broker must
   * re-send the retained message, §3.8.4) and waits up to `retainedWaitMs` after the SUBACK:
   * true when the retained copy equals `payload`, false when another one or none arrives.
   * The copy is taken here, never handed to the topic's handler.
   * @throws Error when not connected, or when the connection ends before the answer.
   */
  async heldRetained(topic: string, payload: Buffer): Promise<boolean> {
    const client = this.client;
    if (client === undefined || !this.isConnected()) throw new Error('not connected');
    const qos = this.subscriptions.find((s) => s.topic === topic)?.qos ?? 1;
    const probe = this.probes.start(topic, payload);
    // mqtt.js skips a subscription it already holds unless `resubscribe` is set.
    // (mqtt.js's type cannot express its own `resubscribe` key beside the topics.)
    const request = { [topic]: { qos }, resubscribe: true } as unknown as ISubscriptionMap;
    const subscribed = client.subscribeAsync(request);
    subscribed.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      const first = await Promise.race([probe.settled, subscribed.then(() => undefined)]);
      if (first !== undefined) return first;
      timer = setTimeout(probe.close, this.options.retainedWaitMs ?? DEFAULT_RETAINED_WAIT_MS);
      return await probe.settled;
    } finally {
      clearTimeout(timer);
      probe.close();
    }
  }

  /** Delivers what the outbox holds (bounded wait), publishes the retained `offline` status when connected, then disconnects cleanly. */
  async stop(): Promise<void> {
    // No set-aside retry now: one could cost the connection the `offline` status needs.
    this.pump.stop();
    if (this.isConnected()) {
      // Events journaled just before the stop (field case L1) go out before `offline`, within
      // a bounded wait: what is left stays in the outbox for the next start.
      await withTimeout(this.pump.run(), STOP_TIMEOUT_MS).catch((err: unknown) =>
        this.log.warn({ err }, 'outbox not flushed at stop'),
      );
    }
    this.stopping = true;
    this.supervisor.stop();
    this.probes.connectionLost();
    clearTimeout(this.stableTimer);
    clearInterval(this.telemetryTimer);
    this.telemetryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    if (client.connected) {
      await withTimeout(this.publishStatus(client, 'offline'), STOP_TIMEOUT_MS).catch(
        (err: unknown) => this.log.warn({ err }, 'offline status not sent'),
      );
    }
    try {
      // A DISCONNECT makes the broker drop the will (MQTT 3.1.1 §3.14.4).
      await withTimeout(client.endAsync(!client.connected), STOP_TIMEOUT_MS);
    } catch (err) {
      this.log.warn({ err }, 'clean disconnect failed');
      client.end(true);
    }
    this.log.info({ session: this.session }, 'link stopped');
  }

  private attach(client: MqttClient, minMs: number, maxMs: number): void {
    client.on('connect', () => {
      if (!this.retired.has(client)) void this.onConnect(client);
    });
    // Runs before mqtt.js's own close handler, which arms the reconnect timer with this period:
    // a random wait keeps a fleet from reconnecting in the same second after a broker restart.
    client.prependListener('close', () => {
      if (this.retired.has(client)) return;
      this.onClose();
      const [fromMs, toMs] = this.conflict.reconnectBounds(minMs, maxMs);
      client.options.reconnectPeriod = jitterMs(fromMs, toMs);
    });
    // mqtt.js builds CONNECT from options just after emitting `reconnect`.
    client.on('reconnect', () => {
      client.options.will = this.will();
    });
    client.on('error', (err) => this.logClientError(err));
    // Attached once for the client's life, not per connection (field case M3).
    client.on('message', (topic, payload, packet) => {
      // The retained copy a probe asked for (heldRetained): an echo, not a new message.
      if (packet.retain && this.probes.offer(topic, payload)) return;
      const sub = this.subscriptions.find((s) => s.topic === topic);
      if (sub !== undefined)
        void dispatchMessage(sub, payload, { topic, retain: packet.retain }, this.log);
    });
  }

  /**
   * The fleet trust list topic, when a receiver is given: bounded by MAX_FLEET_PAYLOAD_BYTES,
   * one list at a time in arrival order, and `info` (retained, read across the fleet) published
   * again only when the version in force changed, never for a refused, replayed or repeated
   * list: anyone may publish here.
   */
  private trustSubscription(): MqttSubscription | undefined {
    const onTrustList = this.deps.onTrustList;
    if (onTrustList === undefined) return undefined;
    const topic = this.fleet.trust;
    return {
      topic,
      maxBytes: MAX_FLEET_PAYLOAD_BYTES,
      handle: (payload) => {
        const handled = this.trustQueue.then(async () => {
          const before = this.options.trustVersion?.();
          await onTrustList(payload.toString('utf8'), topic);
          if (this.options.trustVersion?.() !== before) await this.publishInfo();
        });
        this.trustQueue = handled.catch(() => undefined);
        return handled;
      },
    };
  }

  /** Publishes `info` again (retained), e.g. after a new trust list took effect. */
  private async publishInfo(): Promise<void> {
    const client = this.client;
    if (client === undefined || !this.isConnected()) return;
    await client.publishAsync(this.topics.info, JSON.stringify(this.info()), {
      qos: 1,
      retain: true,
    });
  }

  /**
   * A connection error, logged once per kind until the next connection: while the broker is
   * away mqtt.js reports the same refusal at every attempt (every few seconds for hours),
   * which would fill the journal. Repeats are counted and said at the next connection.
   */
  private logClientError(err: Error): void {
    const kind = errorKind(err);
    if (this.errorRepeats.has(kind)) {
      this.errorRepeats.set(kind, (this.errorRepeats.get(kind) ?? 0) + 1);
      return;
    }
    this.errorRepeats.set(kind, 0);
    this.log.warn({ error: describeError(err), code: kind, ...tlsHint(err) }, 'mqtt error');
  }

  private async onConnect(client: MqttClient): Promise<void> {
    const repeats = [...this.errorRepeats].filter(([, n]) => n > 0);
    if (repeats.length > 0)
      this.log.info({ repeats: Object.fromEntries(repeats) }, 'mqtt errors repeated while away');
    this.errorRepeats.clear();
    this.session = this.nextSession;
    this.nextSession = this.session + 1;
    this.connectedAtMono = this.deps.clock.monoMs();
    this.replay.connected(this.deps.clock.nowMs());
    this.counters.connects += 1;
    this.watchStability();
    this.log.info({ session: this.session }, 'link connected');
    try {
      await this.deps.store.setSetting(SESSION_KEY, String(this.session));
    } catch (err) {
      this.log.warn({ err }, 'session not persisted');
    }
    try {
      await this.publishStatus(client, 'online');
      await this.publishInfo();
    } catch (err) {
      this.log.warn({ err }, 'status not published');
    }
    // The outbox, then the set-aside events due for a retry.
    this.pump.sweep();
    // Clean sessions forget subscriptions: subscribe at every connection. Retained messages
    // (the trust list, the revocation snapshot) arrive at once.
    for (const sub of this.subscriptions) {
      client.subscribeAsync(sub.topic, { qos: sub.qos ?? 1 }).catch((err: unknown) => {
        this.log.warn({ err, topic: sub.topic }, 'subscription failed');
      });
    }
  }

  /** At every socket close, also of failed attempts (then no connection was up). */
  private onClose(): void {
    // A broker that closes the connection right after an event was sent most likely refused
    // that event (field case M4), not a peer with our client id: not a sign of conflict.
    const closedOnEvent = this.publisher.inFlight;
    this.publisher.connectionClosed();
    this.probes.connectionLost();
    const connectedAt = this.connectedAtMono;
    this.connectedAtMono = undefined;
    clearTimeout(this.stableTimer);
    if (connectedAt === undefined) {
      if (!this.stopping) this.conflict.attemptFailed();
      return;
    }
    this.supervisor.connectionEnded();
    this.counters.disconnects += 1;
    const endedAt = this.deps.clock.monoMs();
    const fields = { session: this.session, connectedMs: Math.round(endedAt - connectedAt) };
    if (this.stopping) {
      this.log.info(fields, 'link disconnected');
      return;
    }
    this.log.warn(fields, 'link disconnected');
    this.replay.disconnected(this.deps.clock.nowMs());
    if (closedOnEvent) return;
    if (this.conflict.connectionEnded(connectedAt, endedAt)) void this.raiseConflict();
  }

  /** During a conflict episode: ends it once this connection has lasted `stableMs`. */
  private watchStability(): void {
    if (!this.conflict.inConflict) return;
    this.stableTimer = setTimeout(() => {
      const connectedAt = this.connectedAtMono;
      if (connectedAt === undefined) return;
      if (this.conflict.checkStable(connectedAt, this.deps.clock.monoMs())) {
        this.log.info({ clientId: this.clientId }, 'mqtt client id conflict cleared');
      }
    }, this.conflict.settings.stableMs + 1);
    this.stableTimer.unref();
  }

  /** Logs the conflict and raises the alarm: once per episode (field case M1). */
  private async raiseConflict(): Promise<void> {
    const s = this.conflict.settings;
    const detail =
      `client id "${this.clientId}": ${s.count} connections in a row were closed by the ` +
      `broker within ${seconds(s.shortMs)} of being accepted; another client probably uses ` +
      `the same id (a cloned SD card?); reconnecting every ${seconds(s.backoffMinMs)}–` +
      `${seconds(s.backoffMaxMs)} until a connection lasts ${seconds(s.stableMs)}`;
    this.log.error(
      { clientId: this.clientId, session: this.session, ...s, detail },
      'mqtt client id conflict',
    );
    try {
      await this.deps.onAlarm?.('client_id_conflict', detail);
    } catch (err) {
      this.log.error({ err, reason: 'client_id_conflict' }, 'alarm not raised');
    }
  }

  /** Publishes an outbox event; `fromBacklog` marks it `replay: true` whatever its age. */
  private async publishEvent(event: GateEvent, fromBacklog = false): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new Error('link stopped');
    const backlog = fromBacklog || this.replay.isReplay(event.ts, this.deps.clock.nowMs());
    const payload = eventPayload(event, backlog);
    const bytes = Buffer.byteLength(payload);
    const limit = this.maxEventBytes();
    if (bytes > limit) {
      throw undeliverableError(`${bytes} bytes, over mqtt.maxEventBytes (${limit})`, {
        bytes,
        limit,
      });
    }
    const timeoutMs = this.options.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;
    await this.publisher.publish(client, this.topics.events, payload, timeoutMs);
    this.log.debug({ seq: event.seq, id: event.id, replay: backlog }, 'event published');
  }

  private maxEventBytes(): number {
    return this.options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  /** The `event_undeliverable` alarm, once per event set aside (the store has it already). */
  private async raiseUndeliverable(detail: string): Promise<void> {
    try {
      await this.deps.onAlarm?.('event_undeliverable', detail);
    } catch (err) {
      this.log.error({ err, reason: 'event_undeliverable' }, 'alarm not raised');
    }
  }

  private async publishStatus(client: MqttClient, state: StatusState): Promise<void> {
    const payload = { state, ts: this.deps.clock.nowMs(), session: this.session };
    await client.publishAsync(this.topics.status, JSON.stringify(payload), {
      qos: 1,
      retain: true,
    });
  }

  /**
   * The last will of the next connection, built just before its CONNECT: the broker publishes
   * it (retained `status`) when that connection ends without a DISCONNECT.
   *
   * The broker cannot stamp the loss, so `since` is when the connection was opened (wall ms)
   * and `ts` equals it, for the common `{state, ts, session}` shape: a consumer should take
   * its own receive time as the time of the loss. `session` is the number this connection
   * gets (the persisted counter, +1 at every connection): a `lost` whose session is lower than
   * that of an `online` already seen is a stale will and can be ignored. Sessions are clean
   * (`clean: true`): the broker keeps no subscriptions or queued messages between connections.
   */
  private will(): NonNullable<IClientOptions['will']> {
    const sinceMs = this.deps.clock.nowMs();
    const payload = { state: 'lost', ts: sinceMs, since: sinceMs, session: this.nextSession };
    return { topic: this.topics.status, payload: JSON.stringify(payload), qos: 1, retain: true };
  }

  private info(): Record<string, unknown> {
    const { version, configHash, bootMs, site, gate, devices } = this.options;
    const trustVersion = this.options.trustVersion?.();
    return { version, configHash, trustVersion, devices, bootTs: bootMs, site, gate };
  }

  private startTelemetry(): void {
    const periodMs = this.options.telemetrySec * 1000;
    this.telemetryTimer = setInterval(() => void this.sendTelemetry(), periodMs);
    this.telemetryTimer.unref();
  }

  private async sendTelemetry(): Promise<void> {
    const client = this.client;
    if (client === undefined || !this.isConnected() || this.telemetryBusy) return;
    this.telemetryBusy = true;
    try {
      const figures = await this.deps.telemetry();
      const payload = JSON.stringify({ ...figures, ts: this.deps.clock.nowMs() });
      await client.publishAsync(this.topics.telemetry, payload, { qos: 0 });
      this.counters.telemetrySent += 1;
    } catch (err) {
      this.log.warn({ err }, 'telemetry not sent');
    } finally {
      this.telemetryBusy = false;
    }
  }

  private async readSession(): Promise<number> {
    try {
      const value = Number(await this.deps.store.getSetting(SESSION_KEY));
      return Number.isSafeInteger(value) && value > 0 ? value : 0;
    } catch (err) {
      this.log.warn({ err }, 'session not read');
      return 0;
    }
  }
}

/** The kind of a connection error, for counting repeats: its code, else its message. */
function errorKind(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : err.message.slice(0, 80);
}

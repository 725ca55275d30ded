import type { KeyObject } from 'node:crypto';
import { dirname } from 'node:path';
import { type ClockSources, createTrustedClock } from './clock/create-clock.js';
import type { TrustedClock } from './clock/trusted-clock.js';
import type { Clock } from './clock.js';
import { FleetOps } from './command/fleet-ops.js';
import type { Config } from './config/schema.js';
import { resolveRelaySettings } from './devices/relay-settings.js';
import { describeError, RidergateError } from './errors.js';
import { AbuseGuard } from './gate/abuse-guard.js';
import { BarrierWatch } from './gate/barrier-watch.js';
import { DeferredSettings } from './gate/deferred-settings.js';
import { newDraft } from './gate/draft.js';
import { GateController } from './gate/gate-controller.js';
import { ResilientJournal } from './gate/resilient-journal.js';
import { diagnoseStoreFailure } from './gate/store-diagnosis.js';
import { createInputs, type FittedInputs } from './gpio/input-settings.js';
import { OnoffRelay } from './gpio/onoff-relay.js';
import { SimRelay } from './gpio/sim-relay.js';
import { TrackedRelay } from './gpio/tracked-relay.js';
import type { Relay } from './gpio/types.js';
import { readTlsFiles } from './link/client-options.js';
import { MqttLink } from './link/mqtt-link.js';
import { readSecretFile } from './link/secret-file.js';
import { TelemetryBuilder } from './link/telemetry.js';
import { warnIfTlsInsecure } from './link/tls-hint.js';
import type { Logger } from './log.js';
import { createScanner } from './scanner/index.js';
import type { Scanner } from './scanner/types.js';
import { StoreMaintenance } from './store/maintenance.js';
import { SqliteStore, type StoreRecovery } from './store/sqlite-store.js';
import { readPublicKey } from './token/keys.js';
import { TrustKeeper } from './trust/trust-keeper.js';
import { VERSION } from './version.js';

/** Drivers a caller may supply instead of those the configuration names (demo, tests). */
export interface AppOverrides {
  scanner?: Scanner;
  relay?: Relay;
  clock?: Clock;
  /** Raw time sources for the daemon's trusted clock (tests of field cases C1, C2). */
  clockSources?: ClockSources;
  /** The sensor and exit button, instead of those `inputs` names (e.g. simulated lines). */
  inputs?: FittedInputs;
}

/**
 * One gate: relay, store, trust list, decision pipeline, MQTT link and scanner, started in
 * that order (relay first, so the barrier is held shut before anything else) and stopped in
 * reverse. A component that fails to stop never blocks the others. A store that cannot be
 * opened (full disk, read-only filesystem) does not stop the gate: events wait in memory in
 * the {@link ResilientJournal}, which keeps trying to open it.
 */
export class GateApp {
  readonly relay: Relay;
  readonly scanner: Scanner;
  /** The barrier sensor and exit button fitted; none when `inputs` names none. */
  readonly inputs: FittedInputs;
  readonly store: SqliteStore;
  readonly clock: Clock;
  /** The trusted clock (floor, sync, jumps), unless a test gave its own `clock`. */
  readonly timekeeper: TrustedClock | undefined;
  abuse: AbuseGuard | undefined;
  gate: GateController | undefined;
  link: MqttLink | undefined;
  journal: ResilientJournal | undefined;
  private maintenance: StoreMaintenance | undefined;
  private readonly bootMs: number;
  private readonly settings: DeferredSettings;
  private trust: TrustKeeper | undefined;
  /** The relay as the gate pulses it, remembering when it moved (for forced_open). */
  private readonly trackedRelay: TrackedRelay;
  private barrier: BarrierWatch | undefined;
  /** Signed commands, revocation list and maintenance mode. */
  fleetOps: FleetOps | undefined;

  constructor(
    private readonly config: Config,
    private readonly configHash: string,
    private readonly log: Logger,
    overrides: AppOverrides = {},
  ) {
    // The time floor is read here, before the store opens (src/clock/trusted-clock.ts).
    this.timekeeper =
      overrides.clock === undefined
        ? createTrustedClock(config, log, overrides.clockSources)
        : undefined;
    this.clock = overrides.clock ?? (this.timekeeper as TrustedClock);
    this.bootMs = this.clock.nowMs();
    this.relay = overrides.relay ?? createRelay(config, log);
    this.trackedRelay = new TrackedRelay(this.relay, () => this.clock.monoMs());
    this.inputs = overrides.inputs ?? createInputs(config);
    this.scanner = overrides.scanner ?? createScanner(config.scanner, log);
    this.store = new SqliteStore(config.store.path, log);
    this.settings = new DeferredSettings(this.store, log);
  }

  async start(): Promise<void> {
    await this.relay.init();
    // The root key is checked before the store is created: a gate that cannot be trusted
    // leaves nothing behind on disk.
    const rootKey = readRootKey(this.config.trust.rootKeyFile);
    // So are the broker's password and TLS files: a missing one is a configuration error
    // (exit 78, not restarted), found before the store or the broker is touched.
    const password = readLinkFiles(this.config.mqtt);
    const openFailure = await this.store.open().then(
      () => undefined,
      (err: unknown) => diagnoseStoreFailure(this.config.store.path, err ?? 'store open failed'),
    );
    this.journal = this.createJournal(openFailure);
    // The floor was read in the constructor; its timers start once the store's folder exists.
    this.timekeeper?.start();
    // Pruning and WAL checkpoints; a round that meets a store still down logs and waits.
    this.maintenance = new StoreMaintenance(this.store, this.log, {
      retentionDays: this.config.store.retentionDays,
      nowMs: () => this.clock.nowMs(),
    });
    this.maintenance.start();
    const trust = new TrustKeeper({ store: this.settings, rootKey, log: this.log });
    await trust.start(this.config.trust.file);
    this.trust = trust;
    this.fleetOps = this.createFleetOps(trust);
    await this.fleetOps.start();

    this.link = this.createLink(password);
    const link = this.link;
    this.abuse = new AbuseGuard(this.config.policy.abuse ?? {}, {
      monoMs: () => this.clock.monoMs(),
      onLockout: (detail) => void this.gate?.recordEvent('alarm', { reason: 'scan_abuse', detail }),
      log: this.log,
    });
    const timekeeper = this.timekeeper;
    this.gate = new GateController(
      {
        site: this.config.gate.site,
        gate: this.config.gate.id,
        skewSec: this.config.policy.skewSec,
        reopenGraceSec: this.config.policy.reopenGraceSec,
        pulseMs: this.config.relay.pulseMs,
      },
      {
        relay: this.trackedRelay,
        store: this.journal,
        clock: this.clock,
        trust,
        notifyOutbox: () => link.notify(),
        log: this.log,
        abuse: this.abuse,
        ...(timekeeper === undefined ? {} : { verifySkewSec: () => timekeeper.verifySkewSec() }),
        inMaintenance: () => this.fleetOps?.maintenance.active === true,
        revocations: this.fleetOps.revocations,
      },
    );
    await this.gate.recordEvent('boot');
    const recovery = this.store.recovery;
    if (recovery !== undefined) await this.gate.recordEvent('alarm', corruptAlarm(recovery));
    if (trust.version() === undefined) {
      await this.gate.recordEvent('alarm', { reason: 'trust_list_missing' });
    }
    await link.start();
    await this.startInputs(this.gate);

    const gate = this.gate;
    await this.scanner.start((scan) => void gate.handleScan(scan));
    this.log.info(
      { site: this.config.gate.site, gate: this.config.gate.id, version: VERSION },
      'gate ready',
    );
  }

  /** Stops every component; the relay is driven inactive whatever else fails. */
  async stop(): Promise<void> {
    await this.attempt('inputs', () => this.stopInputs());
    await this.attempt('scanner', () => this.scanner.stop());
    await this.attempt('gate', async () => this.gate?.drain());
    this.relay.off();
    await this.attempt('journal', async () => this.journal?.close());
    await this.attempt('link', async () => this.link?.stop());
    await this.attempt('fleetOps', async () => this.fleetOps?.stop());
    await this.attempt('maintenance', async () => this.maintenance?.stop());
    await this.attempt('store', () => this.store.close());
    await this.attempt('clock', async () => this.timekeeper?.stop());
    await this.attempt('relay', () => this.relay.close());
  }

  /**
   * Starts the fitted inputs: the exit button opens the barrier (`manual_open`), the sensor
   * raises `forced_open` and `held_open` alarms. Their first readings are no events (G4).
   */
  private async startInputs(gate: GateController): Promise<void> {
    const { sensor, button } = this.inputs;
    if (sensor !== undefined) {
      const watch = new BarrierWatch(sensor.settings, {
        msSinceRelay: () => this.trackedRelay.msSinceActive(),
        recordEvent: (type, fields) => gate.recordEvent(type, fields),
        log: this.log,
      });
      this.barrier = watch;
      watch.initial(await sensor.input.start((open) => watch.change(open)));
    }
    if (button !== undefined) {
      const log = this.log.child({ component: 'button' });
      const pressed = await button.input.start((down) => {
        if (down) void gate.manualOpen();
      });
      log.info({ pressed }, 'exit button ready');
    }
  }

  private async stopInputs(): Promise<void> {
    this.barrier?.stop();
    await this.inputs.sensor?.input.stop();
    await this.inputs.button?.input.stop();
  }

  private async attempt(component: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.log.warn({ err, component }, 'component did not stop cleanly');
    }
  }

  private createJournal(openFailure: unknown): ResilientJournal {
    const identity = { site: this.config.gate.site, gate: this.config.gate.id };
    return new ResilientJournal({
      store: this.store,
      makeAlarm: (reason, detail) => ({
        ...newDraft(identity, this.clock, 'alarm'),
        reason,
        detail,
      }),
      notify: () => this.link?.notify(),
      log: this.log,
      reopen: () => this.reopenStore(),
      openFailure,
      storePath: this.config.store.path,
      onRecovered: () => void this.settings.flush(),
    });
  }

  /**
   * Closes and opens the store again, for the journal after an open that failed or a
   * read-only, I/O or corruption error. A corrupt file is moved aside by open(): say so.
   */
  private async reopenStore(): Promise<void> {
    const before = this.store.recovery;
    await this.store.close().catch(() => undefined);
    await this.store.open();
    const recovery = this.store.recovery;
    if (recovery !== undefined && recovery !== before)
      void this.gate?.recordEvent('alarm', corruptAlarm(recovery));
  }

  private createFleetOps(trust: TrustKeeper): FleetOps {
    return new FleetOps(
      {
        prefix: this.config.mqtt.prefix,
        site: this.config.gate.site,
        gate: this.config.gate.id,
        skewSec: this.config.policy.skewSec,
        trustFile: this.config.trust.file,
        revocations: this.config.revocations,
      },
      {
        store: this.store,
        trust,
        clock: this.clock,
        log: this.log,
        gate: () => this.gate,
        publish: async (topic, payload) => this.link?.publish(topic, payload, { qos: 1 }),
        heldRetained: async (topic, payload) => {
          if (this.link === undefined) throw new Error('no link');
          return this.link.heldRetained(topic, payload);
        },
        scanner: () => this.scanner.stats(),
        alarm: async (reason, detail) => {
          await this.gate?.recordEvent('alarm', { reason, detail });
        },
      },
    );
  }

  private createLink(password: string | undefined): MqttLink {
    const m = this.config.mqtt;
    warnIfTlsInsecure(this.log, m.tlsInsecure);
    const telemetry = this.createTelemetry();
    return new MqttLink(
      {
        url: m.url,
        clientId: m.clientId ?? `${this.config.gate.site}-${this.config.gate.id}`,
        username: m.username,
        password,
        prefix: m.prefix,
        site: this.config.gate.site,
        gate: this.config.gate.id,
        telemetrySec: m.telemetrySec,
        rebuildAfterSec: m.rebuildAfterSec,
        drainPerSec: m.drainPerSec,
        maxEventBytes: m.maxEventBytes,
        caFile: m.caFile,
        certFile: m.certFile,
        keyFile: m.keyFile,
        tlsInsecure: m.tlsInsecure,
        version: VERSION,
        bootMs: this.bootMs,
        configHash: this.configHash,
        trustVersion: () => this.trust?.version(),
        devices: { scanner: this.config.scanner.driver, relay: this.config.relay.driver },
      },
      {
        store: this.store,
        telemetry: () => telemetry.build(),
        clock: this.clock,
        onTrustList: async (jws, source) => {
          await this.trust?.offer(jws, source);
        },
        onAlarm: async (reason, detail) => {
          await this.gate?.recordEvent('alarm', { reason, detail });
        },
        subscriptions: this.fleetOps?.subscriptions(),
      },
      this.log,
    );
  }

  /** The telemetry builder. */
  private createTelemetry(): TelemetryBuilder {
    return new TelemetryBuilder(
      {
        version: VERSION,
        nowMs: () => this.clock.nowMs(),
        storeDir: dirname(this.config.store.path),
        outboxDepth: () => this.store.outboxDepth(),
        oldestUndeliveredTs: () => this.store.oldestUndeliveredTs(),
        setAside: () => this.store.setAsideCounts(),
        scanner: () => this.scanner.stats(),
        lastScanTs: () => this.gate?.counters.lastScanTs,
        counts: () => this.gate?.counters.snapshot() ?? { events: {}, denials: {} },
        clockState: () => this.clock.state(),
        clock: () => this.timekeeper?.stats() ?? {},
        abuse: () => this.abuse?.stats() ?? {},
        trustVersion: () => this.trust?.version(),
        link: () => this.link?.stats() ?? {},
        store: () => this.journal?.stats() ?? {},
        revocations: () => this.fleetOps?.revocations.status() ?? {},
        maintenance: () => this.fleetOps?.maintenance.active ?? false,
      },
      this.log,
    );
  }
}

/** The `store_corrupt` alarm: where the unreadable database went and where seqs go on. */
function corruptAlarm(recovery: StoreRecovery): { reason: string; detail: string } {
  return {
    reason: 'store_corrupt',
    detail: `the database was unreadable (${recovery.cause}); moved aside to ${recovery.movedTo}, a new one started at seq ${recovery.lastSeq + 1}`,
  };
}

function createRelay(config: Config, log: Logger): Relay {
  if (config.relay.driver === 'sim') return new SimRelay(log);
  const { pin, activeLow } = resolveRelaySettings(config.relay);
  return new OnoffRelay({ pin, activeLow }, log);
}

function readRootKey(path: string): KeyObject {
  try {
    return readPublicKey(path).key;
  } catch (err) {
    throw new RidergateError(
      'config_invalid',
      `trust.rootKeyFile: ${describeError(err)}; set it to the fleet root public key (root.pub.json)`,
      { cause: err },
    );
  }
}

/**
 * Reads the MQTT password, and the TLS files for their errors (the link reads those again at
 * each client build, so a renewed certificate is taken without a restart).
 * @returns the password, if one is set.
 */
function readLinkFiles(m: Config['mqtt']): string | undefined {
  const password = m.passwordFile === undefined ? undefined : readSecret(m.passwordFile);
  readTlsFiles(m);
  return password;
}

/** The MQTT password; refused when others can read the file (src/link/secret-file.ts). */
function readSecret(path: string): string {
  try {
    return readSecretFile(path, 'mqtt.passwordFile');
  } catch (err) {
    if (err instanceof RidergateError) throw err;
    throw new RidergateError('config_invalid', `mqtt.passwordFile: ${describeError(err)}`, {
      cause: err,
    });
  }
}

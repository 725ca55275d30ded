import type { Clock } from '../clock.js';
import type { GateController } from '../gate/gate-controller.js';
import type { MqttSubscription } from '../link/subscriptions.js';
import { fleetTopics, gateTopics } from '../link/topics.js';
import type { Logger } from '../log.js';
import { DEFAULT_MAX_REVOCATION_BYTES } from '../revocation/revocation-doc.js';
import { RevocationKeeper, type RevocationStatus } from '../revocation/revocation-keeper.js';
import type { RevocationStore } from '../revocation/revocation-store.js';
import type { ScannerStats } from '../scanner/types.js';
import type { TrustKeeper } from '../trust/trust-keeper.js';
import { type CommandIdStore, CommandIds } from './command-ids.js';
import { type CommandActions, CommandRunner } from './command-runner.js';
import { MAX_COMMAND_BYTES } from './command-types.js';
import { MaintenanceMode } from './maintenance-mode.js';

/** Default: the revocation list is stale after two days without a snapshot or delta. */
export const DEFAULT_REVOCATIONS_STALE_AFTER_SEC = 172_800;

export interface FleetOpsOptions {
  prefix: string;
  site: string;
  gate: string;
  skewSec: number;
  trustFile: string;
  /** `revocations` section of the configuration. */
  revocations?: { staleAfterSec?: number; maxBytes?: number };
}

export interface FleetOpsDeps {
  store: RevocationStore & CommandIdStore;
  trust: TrustKeeper;
  clock: Clock;
  log: Logger;
  /** Set once the gate exists (commands that arrive earlier fail with `failed`). */
  gate: () => GateController | undefined;
  publish: (topic: string, payload: string) => Promise<void>;
  /** Whether the broker holds a command retained (MqttLink.heldRetained; field case M2). */
  heldRetained: (topic: string, payload: Buffer) => Promise<boolean>;
  scanner: () => ScannerStats;
  /** Raises an alarm event. */
  alarm: (reason: string, detail: string) => Promise<void>;
}

/**
 * Fleet operations at one gate: signed commands (with their results), the revocation list
 * and maintenance mode, wired to the MQTT link through {@link subscriptions}.
 */
export class FleetOps {
  readonly maintenance: MaintenanceMode;
  readonly revocations: RevocationKeeper;
  readonly commands: CommandRunner;
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: FleetOpsOptions,
    private readonly deps: FleetOpsDeps,
  ) {
    this.maintenance = new MaintenanceMode(deps.store, deps.log);
    this.revocations = new RevocationKeeper({
      store: deps.store,
      operator: (kid) => deps.trust.operator(kid),
      nowMs: () => deps.clock.nowMs(),
      skewSec: options.skewSec,
      log: deps.log,
      maxBytes: options.revocations?.maxBytes ?? DEFAULT_MAX_REVOCATION_BYTES,
      staleAfterSec: options.revocations?.staleAfterSec ?? DEFAULT_REVOCATIONS_STALE_AFTER_SEC,
      onStale: (detail) => deps.alarm('revocations_stale', detail),
    });
    const resultTopic = gateTopics(options.prefix, options.site, options.gate).cmdResult;
    this.commands = new CommandRunner({
      site: options.site,
      gate: options.gate,
      skewSec: options.skewSec,
      operator: (kid) => deps.trust.operator(kid),
      ids: new CommandIds(deps.store, options.skewSec),
      actions: this.actions(),
      heldRetained: (topic, payload) => deps.heldRetained(topic, payload),
      publishResult: (result) => deps.publish(resultTopic, JSON.stringify(result)),
      nowMs: () => deps.clock.nowMs(),
      log: deps.log,
    });
  }

  /**
   * Loads maintenance, and starts loading the revocation list in the background (a million
   * entries take seconds; scans meanwhile ask the store). Never throws.
   */
  async start(): Promise<void> {
    await this.maintenance.load();
    this.loading = this.revocations.start();
  }

  /** Resolves once the stored revocation list is in memory. */
  async ready(): Promise<void> {
    await this.loading;
  }

  stop(): void {
    this.revocations.stop();
  }

  /** For telemetry: `revocations` and `maintenance`. */
  status(): { revocations: RevocationStatus; maintenance: boolean } {
    return { revocations: this.revocations.status(), maintenance: this.maintenance.active };
  }

  /** The gate's command topics (its own and the site's) and the fleet revocation topics. */
  subscriptions(): MqttSubscription[] {
    const { prefix, site, gate } = this.options;
    const own = gateTopics(prefix, site, gate).cmd;
    // `_site` can never be a gate id (ids start with [a-z0-9]): no clash with a gate's topic.
    const siteWide = `${prefix}/${site}/_site/cmd`;
    const fleet = fleetTopics(prefix);
    const command = (topic: string): MqttSubscription => ({
      topic,
      maxBytes: MAX_COMMAND_BYTES,
      handle: (payload, meta) => this.commands.handle(payload, meta).then(() => undefined),
      tooLarge: (bytes, meta) => this.commands.tooLarge(bytes, meta.topic),
    });
    const maxBytes = this.options.revocations?.maxBytes ?? DEFAULT_MAX_REVOCATION_BYTES;
    const revocation = (topic: string): MqttSubscription => ({
      topic,
      maxBytes,
      handle: async (payload) => {
        await this.revocations.offer(payload, topic);
      },
    });
    return [
      command(own),
      command(siteWide),
      revocation(fleet.revocationSnapshot),
      revocation(fleet.revocationDelta),
    ];
  }

  private actions(): CommandActions {
    const gate = (): GateController => {
      const g = this.deps.gate();
      if (g === undefined) throw new Error('the gate is still starting');
      return g;
    };
    return {
      open: async (reason, detail) => {
        const fields = reason === undefined || reason === '' ? { detail } : { reason, detail };
        const { event, pulse } = await gate().remoteOpen(fields);
        if (pulse === undefined)
          throw new Error(`relay pulse failed (remote_open event ${event.id} journaled)`);
        return `barrier opened (event ${event.id})`;
      },
      revoke: async (e) => {
        await this.revocations.revoke(e);
        return `${e.kind} ${e.value} of ${e.iss} revoked${e.untilSec === undefined ? '' : ` until ${e.untilSec}`}`;
      },
      unrevoke: async (e) => {
        await this.revocations.unrevoke(e);
        return `${e.kind} ${e.value} of ${e.iss} no longer revoked`;
      },
      maintenance: async (on) => {
        await this.maintenance.set(on);
        return on ? 'maintenance on: scans are denied' : 'maintenance off';
      },
      reload: async () => {
        await this.deps.trust.start(this.options.trustFile);
        await this.revocations.reload();
        const s = this.revocations.status();
        return `trust list version ${this.deps.trust.version() ?? 'none'}; revocations seq ${s.seq ?? 'none'}, ${s.entries} entries`;
      },
      selftest: () => this.selftest(),
    };
  }

  /** Checks that move nothing: store, trust list, scanner, revocation list. */
  private async selftest(): Promise<{ ok: boolean; detail: string }> {
    const checks: [string, boolean, string][] = [];
    const storeOk = await this.deps.store.getSetting('schema_version').then(
      () => true,
      () => false,
    );
    checks.push(['store', storeOk, storeOk ? 'readable' : 'unreadable']);
    const trust = this.deps.trust.version();
    checks.push(['trust', trust !== undefined, trust === undefined ? 'none' : `version ${trust}`]);
    const scanner = this.deps.scanner().connected;
    checks.push(['scanner', scanner, scanner ? 'connected' : 'disconnected']);
    const r = this.revocations.status();
    checks.push([
      'revocations',
      !r.stale,
      `seq ${r.seq ?? 'none'}, ${r.entries} entries${r.stale ? ', stale' : ''}`,
    ]);
    checks.push(['maintenance', true, this.maintenance.active ? 'on' : 'off']);
    const detail = checks
      .map(([name, ok, what]) => `${name}: ${ok ? '' : 'FAIL '}${what}`)
      .join('; ');
    return { ok: checks.every(([, ok]) => ok), detail };
  }
}

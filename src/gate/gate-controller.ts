import type { Clock } from '../clock.js';
import type { EventDraft, EventType } from '../event.js';
import type { Pulse, Relay } from '../gpio/types.js';
import type { Logger } from '../log.js';
import type { Scan } from '../scanner/types.js';
import type { ReplayEntry } from '../store/types.js';
import type { TrustView } from '../token/types.js';
import type { AbuseGuard, DenialTurn } from './abuse-guard.js';
import { EventCounters } from './counters.js';
import { type DecideContext, type Decision, decide } from './decide.js';
import { newDraft } from './draft.js';
import { ReplayClock } from './replay-clock.js';
import type { Journal, JournaledEvent } from './resilient-journal.js';

export interface GateSettings {
  site: string;
  gate: string;
  skewSec: number;
  reopenGraceSec: number;
  pulseMs: number;
}

export interface GateDeps {
  relay: Relay;
  /**
   * Where events are journaled: a {@link ResilientJournal} in the daemon (it holds events in
   * memory while the store fails), or a bare Store.
   */
  store: Journal;
  clock: Clock;
  trust: TrustView;
  /** Tells the link that the outbox has a new event. */
  notifyOutbox: () => void;
  log: Logger;
  /** The skew token times are checked with now (the unsynced clock policy); default skewSec. */
  verifySkewSec?: () => number;
  /** Scan abuse limits: slows denials only, asked after the decision. */
  abuse?: AbuseGuard;
  /** True while the gate is in maintenance: every scan is denied with reason `maintenance`. */
  inMaintenance?: () => boolean;
  /**
   * The in-memory revocation list; when absent or when it answers undefined (still loading),
   * revocations are looked up in the store.
   */
  revocations?: {
    isRevoked(iss: string, sub: string, cti: string, nowSec: number): boolean | undefined;
  };
}

/** What one scan led to, for the demo and for tests. */
export interface ScanOutcome {
  /** The journaled event; without `seq` while it waits in memory for a failed store. */
  event: JournaledEvent;
  decision: Decision;
  /** The relay movement, when the barrier was opened. */
  pulse?: Pulse;
}

type Processed = Omit<ScanOutcome, 'pulse'> & { pulse?: Promise<Pulse | undefined> };

/**
 * The decision pipeline: validate → decide → record → act → report. Scans are handled one at a
 * time, in arrival order, so two forms of the same token can never both pass the replay check.
 */
export class GateController {
  readonly counters = new EventCounters();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners: ((outcome: ScanOutcome) => void)[] = [];
  /** Denials the abuse guard slows, until each is answered: a stop waits for them. */
  private readonly slowed = new Set<Promise<unknown>>();

  private readonly log: Logger;
  /** Keeps the reopen grace right across clock jumps (field case C2). */
  private readonly replayClock: ReplayClock;

  constructor(
    private readonly settings: GateSettings,
    private readonly deps: GateDeps,
  ) {
    this.log = deps.log.child({ component: 'gate' });
    this.replayClock = new ReplayClock(settings.reopenGraceSec * 1000);
  }

  /** Calls `listener` after each scan's event is journaled and its pulse has ended. */
  onOutcome(listener: (outcome: ScanOutcome) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Queues one scan. Decisions are made one at a time; the pulse of one does not hold up the
   * decision of the next. Resolves when the scan's pulse (if any) has ended. Never rejects.
   */
  handleScan(scan: Scan): Promise<ScanOutcome | undefined> {
    const decided = this.queue.then(() => this.process(scan));
    this.queue = decided.catch(() => undefined);
    return decided.then(
      async (processed) => {
        // A denial slowed by the abuse guard is answered later, off the queue.
        const { event, decision, pulse } =
          'deferred' in processed ? await processed.deferred : processed;
        const ended = await pulse;
        const outcome: ScanOutcome =
          ended === undefined ? { event, decision } : { event, decision, pulse: ended };
        for (const listener of this.listeners) listener(outcome);
        return outcome;
      },
      (err: unknown) => {
        this.log.error({ err }, 'scan could not be handled');
        return undefined;
      },
    );
  }

  /**
   * Resolves when every queued scan has been handled, the denials the abuse guard slows
   * included: at a stop they are answered at once (journaled), not lost.
   */
  async drain(): Promise<void> {
    await this.queue;
    this.deps.abuse?.release();
    await Promise.allSettled([...this.slowed]);
  }

  /**
   * The exit button: journals a `manual_open` event, then pulses the relay (the journal first,
   * as for a scan). Queued with the scans, so events keep their order. Resolves when the pulse
   * has ended. Never rejects.
   */
  manualOpen(): Promise<{ event: JournaledEvent; pulse?: Pulse }> {
    return this.openWith('manual_open', {});
  }

  /**
   * A signed `open` command: journals a `remote_open` event (the operator's `reason` when
   * given, and `detail` naming the command), then pulses the relay, queued with the scans like
   * {@link manualOpen}. Never rejects.
   */
  remoteOpen(fields: { reason?: string; detail: string }): Promise<{
    event: JournaledEvent;
    pulse?: Pulse;
  }> {
    return this.openWith('remote_open', fields);
  }

  private openWith(
    type: 'manual_open' | 'remote_open',
    fields: Partial<EventDraft>,
  ): Promise<{ event: JournaledEvent; pulse?: Pulse }> {
    const journaled = this.queue.then(() => this.recordEvent(type, fields));
    this.queue = journaled.catch(() => undefined);
    return journaled.then(async (event) => {
      this.log.info(
        { seq: event.seq, queued: event.seq === undefined ? true : undefined },
        type === 'manual_open' ? 'manual open' : 'remote open',
      );
      const pulse = await this.open();
      return pulse === undefined ? { event } : { event, pulse };
    });
  }

  /** Journals a non-scan event (boot, alarm) and tells the outbox. Never rejects. */
  async recordEvent(type: EventType, fields: Partial<EventDraft> = {}): Promise<JournaledEvent> {
    return this.journal({ ...this.baseDraft(type), ...fields });
  }

  private async process(scan: Scan): Promise<Processed | { deferred: Promise<Processed> }> {
    const nowMs = this.deps.clock.nowMs();
    const decision: Decision = this.deps.inMaintenance?.()
      ? { type: 'deny', reason: 'maintenance', detail: 'the gate is in maintenance' }
      : await this.decide(scan.text, nowMs);
    const decisionUs = Math.round((this.deps.clock.monoMs() - scan.receivedMono) * 1000);
    const turn = decision.type === 'deny' ? this.deps.abuse?.denied(decision.reason) : undefined;
    if (turn !== undefined && turn.kind !== 'now') {
      const deferred = this.answerLater(turn, decision, nowMs, decisionUs);
      this.slowed.add(deferred);
      void deferred.finally(() => this.slowed.delete(deferred)).catch(() => undefined);
      return { deferred };
    }

    const event = await this.record(decision, nowMs, decisionUs);

    const pulse = decision.type === 'deny' ? undefined : this.open();

    this.report(event, decision);
    return pulse === undefined ? { event, decision } : { event, decision, pulse };
  }

  private decide(text: string, nowMs: number): Promise<Decision> {
    return decide(text, {
      verify: {
        trust: this.deps.trust,
        nowSec: Math.floor(nowMs / 1000),
        site: this.settings.site,
        skewSec: this.deps.verifySkewSec?.() ?? this.settings.skewSec,
      },
      store: this.lookups,
      nowMs,
      reopenGraceSec: this.settings.reopenGraceSec,
    });
  }

  /** A denial the abuse guard slows: journaled and reported when its turn comes, or dropped. */
  private async answerLater(
    turn: Exclude<DenialTurn, { kind: 'now' }>,
    decision: Decision,
    nowMs: number,
    decisionUs: number,
  ): Promise<Processed> {
    if (turn.kind === 'drop') return { event: this.baseDraft('deny', nowMs), decision };
    await turn.ready;
    const event = await this.record(decision, nowMs, decisionUs);
    this.report(event, decision);
    return { event, decision };
  }

  /**
   * Revocation and replay lookups that fail open: when the store cannot be read (I/O error,
   * corrupt file) a valid rider is still admitted, as DESIGN.md "Reliability rules" asks.
   */
  private readonly lookups: DecideContext['store'] = {
    isRevoked: (iss, sub, cti, nowSec) => {
      const hit = this.deps.revocations?.isRevoked(iss, sub, cti, nowSec);
      if (hit !== undefined) return Promise.resolve(hit);
      return this.deps.store.isRevoked(iss, sub, cti, nowSec).catch((err: unknown) => {
        this.log.error({ err, cti }, 'revocation lookup failed; treated as not revoked');
        return false;
      });
    },
    findReplay: (iss, cti) =>
      this.deps.store.findReplay(iss, cti).then(
        (entry) =>
          this.replayClock.adjust(
            iss,
            cti,
            entry,
            this.deps.clock.nowMs(),
            this.deps.clock.monoMs(),
          ),
        (err: unknown) => {
          this.log.error({ err, cti }, 'replay lookup failed; treated as first use');
          return undefined;
        },
      ),
  };

  /** The journal write comes before the relay moves (DESIGN.md "Reliability rules"). */
  private async record(
    decision: Decision,
    nowMs: number,
    decisionUs: number,
  ): Promise<JournaledEvent> {
    const claims = decision.claims;
    const draft: EventDraft = {
      ...this.baseDraft(decision.type, nowMs),
      ...(decision.type === 'deny' ? { reason: decision.reason } : {}),
      ...(claims ? { iss: claims.iss, sub: claims.sub, cti: claims.cti } : {}),
      decisionUs,
    };
    if (decision.type === 'admit') {
      this.replayClock.remember(decision.claims.iss, decision.claims.cti, this.deps.clock.monoMs());
    }
    const replay =
      decision.type === 'admit'
        ? {
            iss: decision.claims.iss,
            cti: decision.claims.cti,
            firstUsedMs: nowMs,
            expSec: decision.claims.exp,
          }
        : undefined;
    return this.journal(draft, replay);
  }

  /**
   * Journals one event and tells the outbox when it was written. An event the journal holds in
   * memory comes back without a seq; the journal tells the outbox once it is written.
   */
  private async journal(draft: EventDraft, replay?: ReplayEntry): Promise<JournaledEvent> {
    let event: JournaledEvent;
    try {
      event = await this.deps.store.record(draft, replay);
    } catch (err) {
      // Only a bare Store rejects; the ResilientJournal holds the event instead.
      this.log.error({ err, id: draft.id, type: draft.type }, 'event could not be journaled');
      event = draft;
    }
    this.counters.add(event);
    if (event.seq !== undefined) this.deps.notifyOutbox();
    return event;
  }

  private async open(): Promise<Pulse | undefined> {
    try {
      return await this.deps.relay.pulse(this.settings.pulseMs);
    } catch (err) {
      this.log.error({ err }, 'relay pulse failed');
      return undefined;
    }
  }

  private report(event: JournaledEvent, decision: Decision): void {
    this.log.info(
      {
        decision: event.type,
        reason: event.reason,
        detail: decision.type === 'deny' ? decision.detail : undefined,
        iss: event.iss,
        cti: event.cti,
        seq: event.seq,
        queued: event.seq === undefined ? true : undefined,
        durationUs: event.decisionUs,
      },
      'scan decided',
    );
  }

  private baseDraft(type: EventType, nowMs = this.deps.clock.nowMs()): EventDraft {
    return newDraft(this.settings, this.deps.clock, type, nowMs);
  }
}

import type { EventDraft, EventType } from '../event.js';
import type { SensorSettings } from '../gpio/input-settings.js';
import type { Logger } from '../log.js';

export interface BarrierWatchDeps {
  /** Monotonic ms since the relay was last active (0 while it is); undefined: never. */
  msSinceRelay: () => number | undefined;
  /** Journals an alarm (GateController.recordEvent). Never rejects. */
  recordEvent: (type: EventType, fields: Partial<EventDraft>) => Promise<unknown>;
  log: Logger;
}

/**
 * Turns the barrier-position sensor's debounced changes into alarms:
 * - `forced_open`: the barrier opened with the relay neither active nor active within
 *   `forcedOpenGraceMs` before;
 * - `held_open`: it stayed open longer than `heldOpenSec`, once per opening.
 * The state found at start is no event (field case G4); a barrier already open then is timed
 * from start for `held_open`.
 */
export class BarrierWatch {
  private heldTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly settings: SensorSettings,
    private readonly deps: BarrierWatchDeps,
  ) {
    this.log = deps.log.child({ component: 'sensor' });
  }

  /** The sensor's first reading. */
  initial(open: boolean): void {
    this.log.info({ open }, 'barrier sensor ready');
    if (open) this.startHeldTimer();
  }

  /** A debounced change of the sensor. */
  change(open: boolean): void {
    if (!open) {
      this.stopHeldTimer();
      this.log.info('barrier closed');
      return;
    }
    const sinceRelayMs = this.deps.msSinceRelay();
    const expected = sinceRelayMs !== undefined && sinceRelayMs <= this.settings.forcedOpenGraceMs;
    this.log.info({ expected, sinceRelayMs }, 'barrier opened');
    this.startHeldTimer();
    if (!expected) {
      this.alarm(
        'forced_open',
        `the barrier opened with no relay pulse in the ${this.settings.forcedOpenGraceMs} ms before`,
      );
    }
  }

  stop(): void {
    this.stopHeldTimer();
  }

  private startHeldTimer(): void {
    this.stopHeldTimer();
    this.heldTimer = setTimeout(() => {
      this.heldTimer = undefined;
      this.alarm(
        'held_open',
        `the barrier has been open for more than ${this.settings.heldOpenSec} s`,
      );
    }, this.settings.heldOpenSec * 1000);
  }

  private stopHeldTimer(): void {
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
  }

  private alarm(reason: string, detail: string): void {
    this.log.warn({ reason }, 'barrier alarm');
    void this.deps.recordEvent('alarm', { reason, detail });
  }
}

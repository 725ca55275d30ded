import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';

/** Settings key of the maintenance flag: `1` on, `0` off. */
export const MAINTENANCE_SETTING = 'maintenance.on';

/**
 * The gate's maintenance flag, kept in the store across restarts. While it is on every scan
 * is denied with reason `maintenance`; the exit button and remote `open` still work.
 */
export class MaintenanceMode {
  private on = false;
  private readonly log: Logger;

  constructor(
    private readonly store: Pick<Store, 'getSetting' | 'setSetting'>,
    log: Logger,
  ) {
    this.log = log.child({ component: 'maintenance' });
  }

  /** Reads the stored flag; an unreadable store leaves maintenance off. Never throws. */
  async load(): Promise<void> {
    try {
      this.on = (await this.store.getSetting(MAINTENANCE_SETTING)) === '1';
    } catch (err) {
      this.log.error({ err }, 'maintenance flag unreadable; maintenance off');
    }
    if (this.on) this.log.warn({}, 'gate in maintenance: scans are denied');
  }

  get active(): boolean {
    return this.on;
  }

  /** Switches maintenance on or off and stores it; takes effect even if storing fails. */
  async set(on: boolean): Promise<void> {
    this.on = on;
    this.log.warn({ on }, on ? 'maintenance on: scans are denied' : 'maintenance off');
    await this.store.setSetting(MAINTENANCE_SETTING, on ? '1' : '0');
  }
}

import { Gpio } from 'onoff';
import { RidergateError } from '../errors.js';
import type { Logger } from '../log.js';
import { resolveSysfsGpio } from './pin-map.js';
import { PulseTimer } from './pulse-timer.js';
import type { Pulse, Relay } from './types.js';

export interface OnoffRelayOptions {
  /** BCM pin number of the relay line. */
  pin: number;
  /** True for boards whose relay closes on a low level. */
  activeLow: boolean;
}

/** The relay on a sysfs GPIO line through `onoff`. */
export class OnoffRelay implements Relay {
  private gpio: Gpio | undefined;
  private readonly timer: PulseTimer;
  private readonly log: Logger;

  constructor(
    private readonly options: OnoffRelayOptions,
    log: Logger,
  ) {
    this.log = log.child({ component: 'relay' });
    this.timer = new PulseTimer((active) => this.drive(active));
  }

  async init(): Promise<void> {
    const line = resolveSysfsGpio(this.options.pin);
    // Direction 'high'/'low' sets output and level in one write, so an active-low board never
    // sees a low (active) level while the line is configured (field case G2).
    const inactiveDirection = this.options.activeLow ? 'high' : 'low';
    try {
      this.gpio = new Gpio(line, inactiveDirection);
    } catch (err) {
      throw new RidergateError(
        'gpio_failed',
        `relay.pin ${this.options.pin}: cannot configure sysfs GPIO ${line} as an output`,
        {
          cause: err,
          context: { pin: this.options.pin, line },
        },
      );
    }
    this.drive(false);
    this.log.info(
      { pin: this.options.pin, line, activeLow: this.options.activeLow },
      'relay ready',
    );
  }

  pulse(durationMs: number): Promise<Pulse> {
    return this.timer.pulse(durationMs);
  }

  off(): void {
    this.timer.cancel();
    try {
      this.drive(false);
    } catch (err) {
      this.log.error({ err }, 'relay could not be driven inactive');
    }
  }

  async close(): Promise<void> {
    this.off();
    // The line is left exported and inactive: unexporting would let it float on some boards.
    this.gpio = undefined;
  }

  isActive(): boolean {
    return this.timer.isActive();
  }

  private drive(active: boolean): void {
    if (this.gpio === undefined) return;
    const level = active !== this.options.activeLow ? 1 : 0;
    this.gpio.writeSync(level);
  }
}

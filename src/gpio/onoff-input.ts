import { Gpio } from 'onoff';
import { RidergateError } from '../errors.js';
import type { LineReader } from './input.js';
import { resolveSysfsGpio } from './pin-map.js';

/**
 * A sysfs GPIO line read through `onoff` as an input (direction `in`, no edge interrupt: see
 * {@link PolledInput} for why it is polled). The BCM pin is mapped like the relay's.
 */
export class OnoffLineReader implements LineReader {
  private gpio: Gpio | undefined;

  /**
   * @param pin BCM pin number.
   * @param field the setting that names it, for errors, e.g. `inputs.sensor.pin`.
   */
  constructor(
    private readonly pin: number,
    private readonly field: string,
    private readonly root = '/sys/class/gpio',
  ) {}

  /** The sysfs GPIO number the pin maps to. */
  line(): number {
    return resolveSysfsGpio(this.pin, this.root, this.field);
  }

  open(): void {
    const line = this.line();
    try {
      this.gpio = new Gpio(line, 'in');
    } catch (err) {
      throw new RidergateError(
        'gpio_failed',
        `${this.field} ${this.pin}: cannot configure sysfs GPIO ${line} as an input`,
        { cause: err, context: { pin: this.pin, line } },
      );
    }
  }

  read(): number {
    if (this.gpio === undefined) throw new Error(`${this.field}: the line is not open`);
    return this.gpio.readSync();
  }

  close(): void {
    // Left exported, as the relay's line: unexporting would only make the next start slower.
    this.gpio = undefined;
  }
}

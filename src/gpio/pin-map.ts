import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RidergateError } from '../errors.js';

/** One gpiochip folder as the kernel shows it under /sys/class/gpio. */
export interface GpioChip {
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

/**
 * Labels of the pin controllers that carry the 40-pin header's BCM lines:
 * bcm2835 (Pi 1-3, Zero), bcm2711 (Pi 4), rp1 (Pi 5, whose header sits on the RP1 chip).
 */
const HEADER_CHIP_LABELS = [
  'pinctrl-bcm2835',
  'pinctrl-bcm2711',
  'pinctrl-rp1',
  'raspberrypi-exp-gpio',
];

/** Reads every gpiochip folder under `root` (default /sys/class/gpio). */
export function listGpioChips(root = '/sys/class/gpio'): GpioChip[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => n.startsWith('gpiochip'));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    try {
      const dir = join(root, name);
      const label = readFileSync(join(dir, 'label'), 'utf8').trim();
      const base = Number.parseInt(readFileSync(join(dir, 'base'), 'utf8'), 10);
      const ngpio = Number.parseInt(readFileSync(join(dir, 'ngpio'), 'utf8'), 10);
      return Number.isFinite(base) && Number.isFinite(ngpio) ? [{ name, label, base, ngpio }] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Maps a BCM pin to the sysfs GPIO number by the header chip's label and base. Recent kernels
 * number sysfs GPIOs from 512 (571 on a Pi 5), so the BCM number alone drives the wrong line.
 * @param field the setting that names the pin, for the error (`relay.pin`, `inputs.sensor.pin`).
 * @throws RidergateError `gpio_failed` naming the pin, the chips found and the fix.
 */
export function resolveSysfsGpio(
  bcmPin: number,
  root = '/sys/class/gpio',
  field = 'relay.pin',
): number {
  const chips = listGpioChips(root);
  const header = chips.find((c) => HEADER_CHIP_LABELS.includes(c.label));
  if (header && bcmPin < header.ngpio) return header.base + bcmPin;
  const found = chips.map((c) => `${c.name} (label ${c.label}, base ${c.base}, ${c.ngpio} lines)`);
  throw new RidergateError(
    'gpio_failed',
    `${field} ${bcmPin}: no Raspberry Pi header GPIO chip under ${root} carries this pin; ` +
      `chips found: ${found.length > 0 ? found.join('; ') : 'none'}. ` +
      'Check that this is a Raspberry Pi with the sysfs GPIO interface enabled, or use relay.driver: sim.',
    { context: { pin: bcmPin, chips } },
  );
}

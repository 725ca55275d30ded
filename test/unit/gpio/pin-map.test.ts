import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSysfsGpio } from '../../../src/gpio/pin-map.js';

/** Writes a gpiochip folder as the kernel shows it. */
function chip(root: string, base: number, label: string, ngpio: number): void {
  const dir = join(root, `gpiochip${base}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'label'), `${label}\n`);
  writeFileSync(join(dir, 'base'), `${base}\n`);
  writeFileSync(join(dir, 'ngpio'), `${ngpio}\n`);
}

describe('mapping a BCM pin to its sysfs GPIO number (field case G1)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ridergate-sysfs-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('uses base 0 on older kernels (Pi 3, kernel 5.x)', () => {
    chip(root, 0, 'pinctrl-bcm2835', 54);
    chip(root, 504, 'raspberrypi-exp-gpio', 8);
    expect(resolveSysfsGpio(17, root)).toBe(17);
  });

  it('drives line 529 for pin 17 when the pin controller starts at 512 (Pi 4, kernel 6.6)', () => {
    chip(root, 512, 'pinctrl-bcm2711', 58);
    chip(root, 570, 'raspberrypi-exp-gpio', 8);
    expect(resolveSysfsGpio(17, root)).toBe(529);
  });

  it('finds the header on the RP1 chip at 571 on a Pi 5', () => {
    chip(root, 512, 'gpio-brcmstb@107d508500', 32);
    chip(root, 544, 'gpio-brcmstb@107d517c00', 15);
    chip(root, 571, 'pinctrl-rp1', 54);
    expect(resolveSysfsGpio(17, root)).toBe(588);
  });

  it('names the pin, the chips found and the fix when no header chip exists', () => {
    chip(root, 0, 'some-other-soc', 32);
    expect(() => resolveSysfsGpio(17, root)).toThrow(
      /relay\.pin 17: .*chips found: gpiochip0 \(label some-other-soc, base 0, 32 lines\)\. .*relay\.driver: sim/,
    );
  });

  it('says no chips were found when the sysfs GPIO folder is empty or absent', () => {
    expect(() => resolveSysfsGpio(17, join(root, 'absent'))).toThrow(/chips found: none/);
  });
});

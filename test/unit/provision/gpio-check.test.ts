import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkGpio } from '../../../src/provision/checks/gpio-check.js';
import { writeFakeSysfsTree } from '../../helpers/fake-sysfs.js';
import { checkInput, FAKE, fakeSystem } from './check-fixture.js';

describe('gpio mapping check', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-gpio-check-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const onoff = { relay: { driver: 'onoff', profile: 'relay-1ch-active-low' } };

  it('maps each configured pin to its sysfs line on a kernel numbering from 512 (G1)', () => {
    writeFakeSysfsTree(join(dir, 'class'), {
      chips: [{ base: 512, label: 'pinctrl-bcm2711', ngpio: 58 }],
      lines: [],
    });
    // As Raspberry Pi OS's udev rule leaves it: root:gpio, group may write.
    chownSync(join(dir, 'class', 'gpio', 'export'), 0, FAKE.gpio);
    chmodSync(join(dir, 'class', 'gpio', 'export'), 0o660);
    const env = fakeSystem(dir, ['gpio']);
    const input = checkInput(env, {
      ...onoff,
      inputs: { debounceMs: 50, pollMs: 20, sensor: { pin: 22 } },
    });
    expect(checkGpio(input)).toEqual({
      check: 'gpio mapping',
      status: 'ok',
      detail: 'relay.pin 17 -> gpio529, inputs.sensor.pin 22 -> gpio534',
    });
  });

  it('fails naming the pin and the chips found when no header chip carries it', () => {
    writeFakeSysfsTree(join(dir, 'class'), {
      chips: [{ base: 0, label: 'some-expander', ngpio: 8 }],
      lines: [],
    });
    const result = checkGpio(checkInput(fakeSystem(dir), onoff));
    expect(result.status).toBe('fail');
    expect(result.detail).toContain('relay.pin 17: no Raspberry Pi header GPIO chip');
    expect(result.detail).toContain('gpiochip0 (label some-expander, base 0, 8 lines)');
    expect(result.fix).toContain('relay.driver: sim');
  });

  it('fails with the usermod fix when the service user may not write /sys/class/gpio/export', () => {
    writeFakeSysfsTree(join(dir, 'class'), {
      chips: [{ base: 512, label: 'pinctrl-bcm2711', ngpio: 58 }],
      lines: [],
    });
    chmodSync(join(dir, 'class', 'gpio', 'export'), 0o600);
    const result = checkGpio(checkInput(fakeSystem(dir, []), onoff));
    expect(result).toMatchObject({
      status: 'fail',
      detail: `user ridergate cannot write ${join(dir, 'class', 'gpio', 'export')} (mode 600)`,
      fix: 'usermod -aG gpio ridergate, then restart the service',
    });
  });

  it('skips when nothing is driven through sysfs', () => {
    expect(checkGpio(checkInput(fakeSystem(dir))).status).toBe('skip');
  });
});

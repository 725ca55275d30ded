import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRelaySettings } from '../../devices/relay-settings.js';
import { resolveSysfsGpio } from '../../gpio/pin-map.js';
import type { CheckInput, CheckResult } from '../check.js';
import { failed } from '../check.js';
import { lookupUser, mayAccess } from './service-user.js';

const CHECK = 'gpio mapping';

/**
 * Every configured pin (relay, sensor, button) maps to a line of the Pi's header chip
 * (src/gpio/pin-map.ts, field case G1), and the service user may export and drive it:
 * `export` writable, or the line already exported with a writable `value`. Nothing is driven.
 */
export function checkGpio({ config, env }: CheckInput): CheckResult {
  const pins = configuredPins(config);
  if (pins.length === 0)
    return { check: CHECK, status: 'skip', detail: 'relay.driver is sim, no inputs fitted' };
  const mapped: string[] = [];
  for (const [field, pin] of pins) {
    let line: number;
    try {
      line = resolveSysfsGpio(pin, env.gpioRoot, field);
    } catch (err) {
      return failed(
        CHECK,
        err,
        'on a Raspberry Pi, enable the sysfs GPIO interface; elsewhere set relay.driver: sim',
      );
    }
    const problem = accessProblem(env, line);
    if (problem !== undefined) return problem;
    mapped.push(`${field} ${pin} -> gpio${line}`);
  }
  return { check: CHECK, status: 'ok', detail: mapped.join(', ') };
}

/** The onoff-driven pins of the configuration, with the setting that names each. */
function configuredPins(config: CheckInput['config']): [string, number][] {
  const pins: [string, number][] = [];
  if (config.relay.driver === 'onoff')
    pins.push(['relay.pin', resolveRelaySettings(config.relay).pin]);
  const inputDriver = config.inputs?.driver ?? config.relay.driver;
  if (inputDriver === 'onoff') {
    if (config.inputs?.sensor) pins.push(['inputs.sensor.pin', config.inputs.sensor.pin]);
    if (config.inputs?.button) pins.push(['inputs.button.pin', config.inputs.button.pin]);
  }
  return pins;
}

function accessProblem(env: CheckInput['env'], line: number): CheckResult | undefined {
  const value = join(env.gpioRoot, `gpio${line}`, 'value');
  const target = existsSync(value) ? value : join(env.gpioRoot, 'export');
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(target);
  } catch {
    return {
      check: CHECK,
      status: 'fail',
      detail: `${target} does not exist`,
      fix: 'the kernel offers no sysfs GPIO here; use a Raspberry Pi OS kernel or relay.driver: sim',
    };
  }
  const user = lookupUser(env.serviceUser, env.passwdFile, env.groupFile);
  if (user === undefined || mayAccess(user, stat, 0o2)) return undefined;
  return {
    check: CHECK,
    status: 'fail',
    detail: `user ${user.name} cannot write ${target} (mode ${(stat.mode & 0o777).toString(8)})`,
    fix: `usermod -aG gpio ${user.name}, then restart the service`,
  };
}

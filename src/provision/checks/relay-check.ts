import { resolveRelaySettings } from '../../devices/relay-settings.js';
import { OnoffRelay } from '../../gpio/onoff-relay.js';
import { SimRelay } from '../../gpio/sim-relay.js';
import type { Relay } from '../../gpio/types.js';
import type { Logger } from '../../log.js';
import type { CheckInput, CheckResult } from '../check.js';
import { failed } from '../check.js';

const CHECK = 'relay';

/** The selftest's click: long enough to hear, short enough not to let a car through. */
export const SELFTEST_PULSE_MS = 250;

/**
 * Asks the technician a yes/no question. Resolves undefined when nobody can answer (not a
 * terminal); `--yes` answers true without asking.
 */
export type Confirm = (question: string) => Promise<boolean | undefined>;

/**
 * Pulses the relay once for {@link SELFTEST_PULSE_MS} and asks whether it clicked. The relay
 * is driven inactive before and after, whatever happens.
 */
export async function checkRelayClick(
  { config }: CheckInput,
  confirm: Confirm,
  log: Logger,
  relay?: Relay,
): Promise<CheckResult> {
  const settings = resolveRelaySettings(config.relay);
  const driver =
    relay ?? (settings.driver === 'sim' ? new SimRelay(log) : new OnoffRelay(settings, log));
  const where = `BCM pin ${settings.pin} (${settings.driver}${settings.activeLow ? ', active low' : ''})`;
  try {
    await driver.init();
    await driver.pulse(SELFTEST_PULSE_MS);
  } catch (err) {
    return failed(
      CHECK,
      err,
      'check relay.pin and relay.profile, and that the service user is in the gpio group',
    );
  } finally {
    driver.off();
    await driver.close().catch(() => undefined);
  }
  const seen = await confirm(
    `The relay on ${where} was just pulsed for ${SELFTEST_PULSE_MS} ms. Did you hear or see it click?`,
  );
  if (seen === undefined) {
    return {
      check: CHECK,
      status: 'skip',
      detail: `pulsed ${where} for ${SELFTEST_PULSE_MS} ms; not confirmed (no terminal to ask, no --yes)`,
    };
  }
  if (seen) return { check: CHECK, status: 'ok', detail: `pulsed ${where}; click confirmed` };
  return {
    check: CHECK,
    status: 'fail',
    detail: `pulsed ${where}; no click heard or seen`,
    fix: 'check the relay board wiring (VCC, GND, IN to the BCM pin), relay.pin and relay.activeLow (or relay.profile)',
  };
}

import type { Config } from '../config/schema.js';
import type { DigitalInput } from './input.js';
import { OnoffLineReader } from './onoff-input.js';
import { PolledInput } from './polled-input.js';
import { SimLineReader } from './sim-input.js';

/** Defaults of the `inputs` section's per-input settings. */
export const INPUT_DEFAULTS = {
  debounceMs: 50,
  pollMs: 20,
  heldOpenSec: 60,
  forcedOpenGraceMs: 3_000,
} as const;

/** What the barrier sensor's alarms need to know. */
export interface SensorSettings {
  heldOpenSec: number;
  forcedOpenGraceMs: number;
}

/** The inputs a gate has fitted; an input not fitted is absent. */
export interface FittedInputs {
  sensor?: { input: DigitalInput; settings: SensorSettings };
  button?: { input: DigitalInput };
}

/**
 * Builds the inputs the configuration names: sysfs lines through `onoff`, or simulated lines
 * when `inputs.driver` (by default `relay.driver`) is `sim`.
 */
export function createInputs(config: Config): FittedInputs {
  const inputs = config.inputs;
  if (inputs === undefined) return {};
  const driver = inputs.driver ?? config.relay.driver;
  const debounceMs = inputs.debounceMs ?? INPUT_DEFAULTS.debounceMs;
  const pollMs = inputs.pollMs ?? INPUT_DEFAULTS.pollMs;
  // A simulated line starts at its inactive level: barrier closed, button released.
  const line = (pin: number, field: string, activeLevel: 0 | 1) =>
    driver === 'sim'
      ? new SimLineReader(activeLevel === 1 ? 0 : 1)
      : new OnoffLineReader(pin, field);
  const fitted: FittedInputs = {};
  const sensor = inputs.sensor;
  if (sensor !== undefined) {
    const activeLevel = (sensor.openWhen ?? 'high') === 'high' ? 1 : 0;
    fitted.sensor = {
      input: new PolledInput(line(sensor.pin, 'inputs.sensor.pin', activeLevel), {
        debounceMs: sensor.debounceMs ?? debounceMs,
        pollMs,
        activeLevel,
      }),
      settings: {
        heldOpenSec: sensor.heldOpenSec ?? INPUT_DEFAULTS.heldOpenSec,
        forcedOpenGraceMs: sensor.forcedOpenGraceMs ?? INPUT_DEFAULTS.forcedOpenGraceMs,
      },
    };
  }
  const button = inputs.button;
  if (button !== undefined) {
    const activeLevel = (button.pressedWhen ?? 'low') === 'high' ? 1 : 0;
    fitted.button = {
      input: new PolledInput(line(button.pin, 'inputs.button.pin', activeLevel), {
        debounceMs: button.debounceMs ?? debounceMs,
        pollMs,
        activeLevel,
      }),
    };
  }
  return fitted;
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { resolveRelaySettings } from '../../../src/devices/relay-settings.js';
import { isRidergateError } from '../../../src/errors.js';

describe('relay.profile: the relay board picks the pin and active level', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-relay-profile-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function load(text: string) {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `gate: { site: north, id: g1 }\n${text}`);
    return loadConfig(file, {}).config;
  }

  function problemsOf(text: string): string[] {
    try {
      load(text);
    } catch (err) {
      if (isRidergateError(err, 'config_invalid')) return err.context.problems as string[];
      throw err;
    }
    return [];
  }

  it('takes the first pin and the level of the board, and BCM 17 active high without one', () => {
    expect(load('relay: { profile: relay-8ch-active-low }\n').relay).toMatchObject({
      pin: 5,
      activeLow: true,
    });
    expect(load('relay: { profile: relay-1ch-active-high }\n').relay).toMatchObject({
      pin: 17,
      activeLow: false,
    });
    expect(load('').relay).toMatchObject({ pin: 17, activeLow: false });
  });

  it('lets relay.pin and relay.activeLow override the profile', () => {
    expect(load('relay: { profile: relay-4ch-active-low, pin: 22 }\n').relay).toMatchObject({
      pin: 22,
      activeLow: true,
    });
    expect(
      resolveRelaySettings({
        driver: 'onoff',
        profile: 'relay-2ch-active-low',
        activeLow: false,
        pulseMs: 500,
      }),
    ).toMatchObject({ pin: 17, activeLow: false });
  });

  it('reports an unknown profile, or a scanner profile, as a configuration error', () => {
    const unknown = problemsOf('relay: { profile: no-such-board }\n');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatch(/^relay\.profile: got "no-such-board"; no such relay profile/);
    expect(unknown[0]).toContain('relay-1ch-active-low');
    expect(problemsOf('relay: { profile: generic-cdc-cr }\n')[0]).toMatch(
      /relay\.profile: "generic-cdc-cr" is not a valid relay profile: .*kind: is "scanner"/,
    );
  });

  it('refuses inputs on the relay pin or on one pin together', () => {
    expect(
      problemsOf(
        'relay: { profile: relay-2ch-active-low }\ninputs: { sensor: { pin: 17 }, button: { pin: 22 } }\n',
      ),
    ).toEqual([expect.stringMatching(/^inputs\.sensor\.pin: got 17; that is the relay's pin/)]);
    expect(problemsOf('inputs: { sensor: { pin: 22 }, button: { pin: 22 } }\n')).toEqual([
      expect.stringMatching(/^inputs\.button\.pin: got 22; that is inputs\.sensor\.pin/),
    ]);
  });

  it('takes the inputs section with its defaults, and none fitted when it names none', () => {
    expect(load('').inputs).toEqual({ debounceMs: 50, pollMs: 20 });
    expect(
      load('inputs: { sensor: { pin: 22, openWhen: low, heldOpenSec: 30 }, button: { pin: 23 } }\n')
        .inputs,
    ).toMatchObject({ sensor: { pin: 22, openWhen: 'low', heldOpenSec: 30 }, button: { pin: 23 } });
    expect(problemsOf('inputs: { sensor: { pin: 22, openWhen: up } }\n')).toEqual([
      `inputs.sensor.openWhen: got "up"; expected one of "high", "low" (${join(dir, 'config.yaml')} line 2)`,
    ]);
  });
});

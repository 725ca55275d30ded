import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { devicesDir, loadProfiles } from '../../../src/devices/profiles.js';
import {
  resolveScannerSettings,
  scannerConfigProblems,
} from '../../../src/devices/scanner-settings.js';
import { isRidergateError } from '../../../src/errors.js';
import { cliPath } from '../../helpers/daemon.js';

const wire = JSON.parse(
  readFileSync(new URL('../../fixtures/scanner/profile-wire.json', import.meta.url), 'utf8'),
) as { profiles: Record<string, string[]> };

/**
 * A scanner section as the schema types it, with `over` merged in. Built directly rather than
 * through validateConfig, whose cross-field checks would already refuse the unknown profiles
 * these tests hand to resolveScannerSettings.
 */
function scannerConfig(over: Record<string, unknown> = {}): Config['scanner'] {
  return {
    driver: 'serial',
    path: '/dev/ttyACM0',
    maxLength: 1024,
    dedupeMs: 0,
    reconnectMinMs: 250,
    reconnectMaxMs: 5000,
    ...over,
  } as Config['scanner'];
}

describe('the packaged device profiles', () => {
  const { profiles, problems } = loadProfiles();

  it('all validate, with at least six scanner families and four relay boards', () => {
    expect(problems).toEqual([]);
    expect(profiles.filter((p) => p.kind === 'scanner').length).toBeGreaterThanOrEqual(6);
    expect(profiles.filter((p) => p.kind === 'relay').length).toBeGreaterThanOrEqual(4);
  });

  it('each scanner profile has a hand-written wire sample for the serial framing test', () => {
    const scanners = profiles.filter((p) => p.kind === 'scanner').map((p) => p.name);
    expect(Object.keys(wire.profiles).sort()).toEqual(scanners.sort());
  });

  it('each relay board has one distinct BCM pin per channel', () => {
    for (const p of profiles) {
      if (p.kind !== 'relay') continue;
      expect(new Set(p.relay.pins).size).toBe(p.relay.channels);
    }
  });
});

describe('profile validation', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-devices-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports every problem of every file at once, naming the file and the field', () => {
    writeFileSync(
      join(dir, 'bad-scanner.yaml'),
      'name: bad-scanner\nkind: scanner\nsummary: x\nscanner:\n  baudRate: fast\n  dataBits: 8\n  parity: maybe\n  stopBits: 1\n  terminator: cr\n  framing: none\n  stripPrefix: ""\n  stripSuffix: ""\n  stripBom: false\n  colour: red\n',
    );
    writeFileSync(
      join(dir, 'bad-relay.yaml'),
      'name: other-name\nkind: relay\nsummary: x\nrelay: { channels: 2, activeLow: true, pins: [17, 17] }\n',
    );
    writeFileSync(join(dir, 'no-kind.yaml'), 'name: no-kind\nkind: sensor\nsummary: x\n');
    const { profiles, problems } = loadProfiles(dir);
    expect(profiles).toEqual([]);
    const file = (name: string) => join(dir, name);
    expect(problems).toEqual(
      expect.arrayContaining([
        `${file('bad-scanner.yaml')}: scanner.baudRate: got "fast"; must be integer`,
        `${file('bad-scanner.yaml')}: scanner.parity: got "maybe"; expected one of "none", "even", "odd", "mark", "space"`,
        `${file('bad-scanner.yaml')}: scanner.stripControl: missing; it must be set`,
        `${file('bad-scanner.yaml')}: scanner.colour: unknown field; remove it or check its spelling`,
        `${file('bad-relay.yaml')}: name: got "other-name"; it must equal the file name ("bad-relay")`,
        `${file('bad-relay.yaml')}: relay.pins: got [17,17]; a pin is listed twice`,
        `${file('no-kind.yaml')}: kind: got "sensor"; expected one of "scanner", "relay"`,
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('`ridergate devices` lists the profiles, and exits 1 naming the bad file', () => {
    const ok = spawnSync(process.execPath, [cliPath(), 'devices'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^aim-symbology-id\s+scanner\s+Scanner sending the AIM/m);
    expect(ok.stdout).toMatch(
      /^relay-4ch-active-low\s+relay\s+.*4 ch, active low, BCM 17,27,22,23$/m,
    );
    expect(ok.stdout).toContain(`profile(s) in ${devicesDir()}`);

    const json = spawnSync(process.execPath, [cliPath(), 'devices', '--json'], {
      encoding: 'utf8',
    });
    const listed = JSON.parse(json.stdout) as { profiles: { name: string }[]; problems: [] };
    expect(listed.profiles.map((p) => p.name)).toContain('stx-etx-framed');
    expect(listed.problems).toEqual([]);

    writeFileSync(join(dir, 'broken.yaml'), 'name: broken\nkind: relay\nsummary: x\n');
    const bad = spawnSync(process.execPath, [cliPath(), 'devices', '--dir', dir], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${join(dir, 'broken.yaml')}: relay: missing; it must be set`);
  });
});

describe('resolveScannerSettings', () => {
  it('without a profile: 9600 8N1, terminator auto, nothing stripped', () => {
    expect(resolveScannerSettings(scannerConfig())).toMatchObject({
      baudRate: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      terminator: 'auto',
      framing: 'none',
      stripPrefix: '',
      stripBom: false,
      staleLineMs: 500,
    });
  });

  it("takes the profile's line, and any field the configuration sets over it", () => {
    const settings = resolveScannerSettings(
      scannerConfig({ profile: 'uart-module-115200', baudRate: 57600, stripSuffix: '#' }),
    );
    expect(settings).toMatchObject({
      path: '/dev/ttyACM0',
      baudRate: 57600,
      terminator: 'cr',
      stripControl: true,
      stripSuffix: '#',
    });
  });

  it('names an unknown profile and the ones there are', () => {
    let caught: unknown;
    try {
      resolveScannerSettings(scannerConfig({ profile: 'no-such-scanner' }));
    } catch (err) {
      caught = err;
    }
    expect(isRidergateError(caught, 'config_invalid')).toBe(true);
    expect((caught as Error).message).toMatch(
      /^scanner\.profile: got "no-such-scanner"; no such scanner profile in .*devices; known: aim-symbology-id, generic-cdc-cr/,
    );
  });

  it('refuses a relay board as a scanner profile', () => {
    expect(() =>
      resolveScannerSettings(scannerConfig({ profile: 'relay-1ch-active-low' })),
    ).toThrow(/is not a valid scanner profile:\n.*kind: is "relay", not "scanner"/);
  });

  it('driver tcp needs host and port', () => {
    expect(scannerConfigProblems(scannerConfig({ driver: 'tcp' }))).toEqual([
      expect.stringMatching(/^scanner\.host: missing/),
      expect.stringMatching(/^scanner\.port: missing/),
    ]);
    expect(() => resolveScannerSettings(scannerConfig({ driver: 'tcp', host: 'h' }))).toThrow(
      /scanner\.port: missing/,
    );
    expect(
      resolveScannerSettings(scannerConfig({ driver: 'tcp', host: 'h', port: 4001 })),
    ).toMatchObject({ driver: 'tcp', host: 'h', port: 4001 });
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigSection } from '../../../src/config/load.js';
import { isRidergateError } from '../../../src/errors.js';

describe('configuration loading', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (text: string) => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, text);
    return file;
  };

  function problemsOf(file: string, env: NodeJS.ProcessEnv = {}): string[] {
    try {
      loadConfig(file, env);
    } catch (err) {
      if (isRidergateError(err, 'config_invalid')) return err.context.problems as string[];
      throw err;
    }
    return [];
  }

  it('merges the file over the packaged defaults', () => {
    const { config, hash } = loadConfig(
      write('gate: { site: north-park, id: gate-2 }\nrelay: { pulseMs: 400 }\n'),
      {},
    );
    expect(config.gate).toMatchObject({ site: 'north-park', id: 'gate-2' });
    expect(config.relay).toMatchObject({ pulseMs: 400, pin: 17, driver: 'onoff' });
    expect(config.mqtt.prefix).toBe('ridergate/v1');
    expect(hash).toMatch(/^[0-9a-f]{12}$/);
  });

  it('applies RIDERGATE_ environment overrides with their types', () => {
    const file = write('gate: { site: north-park, id: gate-2 }\n');
    const { config } = loadConfig(file, {
      RIDERGATE_RELAY_PULSE_MS: '650',
      RIDERGATE_RELAY_ACTIVE_LOW: 'true',
      RIDERGATE_MQTT_URL: 'mqtt://broker:1883',
    });
    expect(config.relay.pulseMs).toBe(650);
    expect(config.relay.activeLow).toBe(true);
    expect(config.mqtt.url).toBe('mqtt://broker:1883');
  });

  it('reports every problem at once, naming the field, the value and what is expected', () => {
    const problems = problemsOf(
      write(
        'gate: { site: North Park, id: g1 }\nrelay: { pulseMs: 60000, colour: red }\nscanner: { driver: usb }\n',
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^gate\.site: got "North Park"; must match pattern/),
        expect.stringMatching(/^relay\.pulseMs: got 60000; must be <= 5000/),
        expect.stringMatching(
          /^relay\.colour: unknown setting \(got "red"\); remove it or check its spelling \(known here: driver, profile, pin, activeLow, pulseMs\)/,
        ),
        expect.stringMatching(/^scanner\.driver: got "usb"; expected one of "serial", "sim"/),
      ]),
    );
  });

  it('names the file when it is not valid YAML or not a mapping', () => {
    expect(() => loadConfig(write('gate: [unclosed\n'), {})).toThrow(
      /config\.yaml: not valid YAML/,
    );
    // One line, with the line of the file the parser points at.
    const file = write('gate:\n  site: a\n   id: b\n');
    expect(() => loadConfig(file, {})).toThrow(
      new RegExp(
        `^${file.replaceAll('.', '\\.')}: not valid YAML: [^\\n]* at line 2, column 9: "site: a"$`,
      ),
    );
    expect(() => loadConfig(write('- just\n- a list\n'), {})).toThrow(
      /the top level must be a mapping/,
    );
    expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow(
      /missing\.yaml: cannot read the configuration file \(no such file\)/,
    );
  });

  it('refuses a file over the size limit before parsing it', () => {
    expect(() => loadConfig(write(`# ${'x'.repeat(300 * 1024)}\n`), {})).toThrow(
      /the limit is 262144/,
    );
  });

  it('keeps environment values as text where the setting is text, and names a bad variable', () => {
    const file = write('gate: { site: north-park, id: gate-2 }\n');
    const { config } = loadConfig(file, {
      RIDERGATE_GATE_ID: '0017',
      RIDERGATE_GATE_NAME: 'Gate #2 north',
    });
    expect(config.gate.id).toBe('0017');
    expect(config.gate.name).toBe('Gate #2 north');
    expect(() => loadConfig(file, { RIDERGATE_FOO_BAR: '1' })).toThrow(
      /RIDERGATE_FOO_BAR: no setting foo\.bar exists/,
    );
    expect(() => loadConfig(file, { RIDERGATE_RELAY_PULSE_MS: 'long' })).toThrow(
      /RIDERGATE_RELAY_PULSE_MS: got "long"; expected a whole number for relay\.pulseMs/,
    );
  });

  it('sets nested settings by variable too, and names a group of settings as such', () => {
    const file = write('gate: { site: north-park, id: gate-2 }\n');
    const { config } = loadConfig(file, {
      RIDERGATE_INPUTS_SENSOR_PIN: '22',
      RIDERGATE_POLICY_ABUSE_MAX_DENIALS: '7',
    });
    expect(config.inputs?.sensor?.pin).toBe(22);
    expect(config.policy.abuse?.maxDenials).toBe(7);
    expect(() => loadConfig(file, { RIDERGATE_POLICY_ABUSE_MAX_DENIALS: 'x' })).toThrow(
      /RIDERGATE_POLICY_ABUSE_MAX_DENIALS: got "x"; expected a whole number for policy\.abuse\.maxDenials/,
    );
    expect(() => loadConfig(file, { RIDERGATE_INPUTS_SENSOR: '1' })).toThrow(
      /RIDERGATE_INPUTS_SENSOR: inputs\.sensor is a group of settings; set each one, e\.g\. RIDERGATE_INPUTS_SENSOR_\w+ \(inputs\.sensor\.\w+\)/,
    );
  });

  it('reports bad variables and bad settings of the file in one run', () => {
    const file = write('gate: { site: north-park, id: gate-2 }\nrelay: { pulseMs: 99999 }\n');
    let message = '';
    try {
      loadConfig(file, { RIDERGATE_RELAY_PULSEMS: '500' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('RIDERGATE_RELAY_PULSEMS: no setting relay.pulsems exists');
    expect(message).toContain('relay.pulseMs: got 99999; must be <= 5000');
  });

  it('refuses the placeholder gate identity of the defaults', () => {
    expect(problemsOf(write('relay: { pulseMs: 500 }\n'))).toEqual([
      expect.stringMatching(/^gate\.site: still "change-me"; set this gate's site id/),
      expect.stringMatching(/^gate\.id: still "change-me"; set this gate's gate id/),
    ]);
  });

  it('checks settings against each other: reconnect bounds and the broker host', () => {
    const problems = problemsOf(
      write(
        'gate: { site: s, id: g }\nscanner: { reconnectMinMs: 60000, reconnectMaxMs: 100 }\nmqtt: { url: "mqtt://" }\n',
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^scanner\.reconnectMinMs: 60000 is above scanner\.reconnectMaxMs 100/),
      expect.stringMatching(/^mqtt\.url: got "mqtt:\/\/"; it names no broker host/),
    ]);
  });

  it('refuses a FIFO, a device and a folder as the configuration file without blocking', () => {
    const fifo = join(dir, 'fifo.yaml');
    spawnSync('mkfifo', [fifo]);
    expect(() => loadConfig(fifo, {})).toThrow(/not a regular file \(a device, FIFO or socket\)/);
    expect(() => loadConfig('/dev/zero', {})).toThrow(/not a regular file/);
    expect(() => loadConfig(dir, {})).toThrow(/is a folder; expected a configuration file/);
    expect(() => loadConfig('', {})).toThrow(/configuration file: the path is empty/);
  });

  it('loads the relay section alone, whatever is wrong elsewhere (for relay off)', () => {
    const file = write(
      'gate: { site: s }\nmqtt: { bogus: 1 }\nrelay: { pin: 22, activeLow: true }\n',
    );
    expect(loadConfigSection(file, 'relay', { RIDERGATE_FOO_BAR: 'x' })).toMatchObject({
      pin: 22,
      activeLow: true,
      pulseMs: 800,
    });
    expect(() => loadConfigSection(write('relay: { pin: 99 }\n'), 'relay', {})).toThrow(
      /relay\.pin: got 99; must be <= 63/,
    );
  });

  it('names an unknown scanner profile and a tcp scanner without host at load time', () => {
    expect(
      problemsOf(write('gate: { site: s, id: g }\nscanner: { profile: no-such-scanner }\n')),
    ).toEqual([
      expect.stringMatching(
        /^scanner\.profile: got "no-such-scanner"; no such scanner profile .*known: .*generic-cdc-cr/,
      ),
    ]);
    expect(problemsOf(write('gate: { site: s, id: g }\nscanner: { driver: tcp }\n'))).toEqual([
      expect.stringMatching(/^scanner\.host: missing/),
      expect.stringMatching(/^scanner\.port: missing/),
    ]);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { closestName } from '../../../src/config/suggest.js';
import { isRidergateError } from '../../../src/errors.js';

/** What a technician reads when the configuration is refused: the whole message. */
function refusal(file: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(file, env);
  } catch (err) {
    if (isRidergateError(err, 'config_invalid')) return err.message;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration errors', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-config-errors-'));
    file = join(dir, 'config.yaml');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file, the line, the value and the right spelling of a misspelled key', () => {
    writeFileSync(file, 'gate:\n  site: north\n  id: g1\nrelay:\n  driver: sim\n  pulseMS: 500\n');
    const message = refusal(file);
    expect(message.split('\n')).toEqual([
      `${file}: invalid configuration:`,
      `  relay.pulseMS: unknown setting (got 500); did you mean relay.pulseMs? (${file} line 6)`,
    ]);
  });

  it('says what the fix is for an unquoted numeric id, a wildcard prefix and a port out of range', () => {
    writeFileSync(file, 'gate: { site: north, id: 0017 }\nmqtt: { prefix: "a/#" }\n');
    expect(refusal(file).split('\n').slice(1)).toEqual([
      `  gate.id: got 17, a number; must be text: put it in quotes in YAML (e.g. "0017") to keep it as written (${file} line 1)`,
      `  mqtt.prefix: got "a/#"; a topic prefix holds no + or # (they are MQTT wildcards), e.g. ridergate/v1 (${file} line 2)`,
    ]);
    writeFileSync(file, 'gate: { site: north, id: g1 }\nmqtt: { url: "mqtt://broker:99999" }\n');
    expect(refusal(file)).toContain(
      'mqtt.url: got "mqtt://broker:99999"; port 99999 is over 65535, e.g. mqtt://broker.example:1883',
    );
  });

  it('never ignores a misspelled key, even when the rest is valid', () => {
    writeFileSync(file, 'gate: { site: north, id: g1 }\nmqtt: { passwordfile: /etc/pw }\n');
    expect(refusal(file)).toContain(
      'mqtt.passwordfile: unknown setting (got "/etc/pw"); did you mean mqtt.passwordFile?',
    );
  });

  it('refuses a password file without a user name, which MQTT cannot send', () => {
    writeFileSync(file, 'gate: { site: north, id: g1 }\nmqtt: { passwordFile: /etc/pw }\n');
    expect(refusal(file)).toContain(
      'mqtt.passwordFile: set to "/etc/pw" but mqtt.username is missing; MQTT sends no password without a user name, so set mqtt.username too',
    );
  });

  it('suggests the section for a misspelled section name', () => {
    writeFileSync(file, 'gate: { site: north, id: g1 }\nrelays:\n  pulseMs: 300\n');
    expect(refusal(file)).toContain(
      `relays: unknown setting (got {"pulseMs":300}); did you mean relay? (${file} line 2)`,
    );
  });

  it('lists the known keys when nothing is close, and reports every problem at once', () => {
    writeFileSync(
      file,
      'gate: { site: north, id: g1 }\nrelay: { colour: red, pulseMs: 9000 }\nstore: { retentionDays: "a year" }\n',
    );
    const lines = refusal(file).split('\n').slice(1);
    expect(lines).toEqual(
      expect.arrayContaining([
        `  relay.colour: unknown setting (got "red"); remove it or check its spelling (known here: driver, profile, pin, activeLow, pulseMs) (${file} line 2)`,
        `  relay.pulseMs: got 9000; must be <= 5000 (${file} line 2)`,
        `  store.retentionDays: got "a year"; must be integer (${file} line 3)`,
      ]),
    );
    expect(lines).toHaveLength(3);
  });

  it('names a misspelled RIDERGATE_ variable and the variable meant', () => {
    writeFileSync(file, 'gate: { site: north, id: g1 }\n');
    expect(() => loadConfig(file, { RIDERGATE_RELAY_PULSEMS: '300' })).toThrow(
      'RIDERGATE_RELAY_PULSEMS: no setting relay.pulsems exists; did you mean RIDERGATE_RELAY_PULSE_MS (relay.pulseMs)?',
    );
    expect(() => loadConfig(file, { RIDERGATE_MQQT_URL: 'mqtt://b' })).toThrow(
      'did you mean RIDERGATE_MQTT_URL (mqtt.url)?',
    );
  });

  it('says when a bad value came from a variable rather than the file', () => {
    writeFileSync(file, 'gate: { site: north, id: g1 }\nrelay: { pulseMs: 300 }\n');
    expect(refusal(file, { RIDERGATE_RELAY_PULSE_MS: '99999' })).toContain(
      'relay.pulseMs: got 99999; must be <= 5000 (from RIDERGATE_RELAY_PULSE_MS)',
    );
  });

  it('never prints the value of a setting that looks secret, nor the password in a URL', () => {
    writeFileSync(
      file,
      [
        'gate: { site: north, id: g1 }',
        'mqtt:',
        '  password: hunter2',
        '  privateKey: hunter3',
        '  auth: { token: hunter4, user: bob }',
        'trust: { secret: 12345 }',
        '',
      ].join('\n'),
    );
    const message = refusal(file);
    expect(message).toContain(
      `mqtt.password: unknown setting (got (value hidden)); a secret is never written in the configuration: put it in a file (mode 0600) and set mqtt.passwordFile to its path (${file} line 3)`,
    );
    expect(message).toContain('mqtt.privateKey: unknown setting (got (value hidden))');
    expect(message).toContain(
      'mqtt.auth: unknown setting (got {"token":"(value hidden)","user":"bob"})',
    );
    expect(message).toContain('trust.secret: unknown setting (got (value hidden))');
    expect(message).not.toMatch(/hunter|12345/);
  });

  it('hides the password of a broker URL set by a variable', () => {
    writeFileSync(file, 'gate: { site: north, id: g1 }\n');
    const message = refusal(file, { RIDERGATE_MQTT_URL: 'ftp://u:hunter2@broker' });
    expect(message).toContain('mqtt.url: got "ftp://u:***@broker/"');
    expect(message).toContain('(from RIDERGATE_MQTT_URL)');
    expect(message).not.toContain('hunter2');
  });

  it('finds close names by letter case first, then by a small edit distance', () => {
    expect(closestName('pulseMS', ['pin', 'pulseMs'])).toBe('pulseMs');
    expect(closestName('retentionDay', ['path', 'retentionDays'])).toBe('retentionDays');
    expect(closestName('colour', ['driver', 'pin', 'pulseMs'])).toBeUndefined();
  });
});

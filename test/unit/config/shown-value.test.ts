import { describe, expect, it } from 'vitest';
import { HIDDEN, looksSecret, shownValue } from '../../../src/config/shown-value.js';

describe('values shown in configuration errors', () => {
  it('takes names of secrets for secret, and names of files or plain settings not', () => {
    for (const name of ['mqtt.password', 'passphrase', 'apiSecret', 'authToken', 'privateKey'])
      expect(looksSecret(name), name).toBe(true);
    for (const name of ['d', 'k', 'key', 'token', 'RIDERGATE_MQTT_PASSWORD'])
      expect(looksSecret(name), name).toBe(true);
    for (const name of ['mqtt.passwordFile', 'keyFile', 'rootKeyFile', 'url', 'pulseMs', 'id'])
      expect(looksSecret(name), name).toBe(false);
  });

  it('hides secrets, secret members and URL passwords, and shows the rest as JSON', () => {
    expect(shownValue('mqtt.password', 'hunter2')).toBe(HIDDEN);
    expect(shownValue('mqtt.password', 1234)).toBe(HIDDEN);
    expect(shownValue('auth', { user: 'bob', secret: 'x' })).toBe(
      '{"user":"bob","secret":"(value hidden)"}',
    );
    expect(shownValue('url', 'mqtt://u:hunter2@broker:1883')).toBe('"mqtt://u:***@broker:1883"');
    expect(shownValue('url', 'mqtt://u:hun ter2@bro ker')).not.toContain('hun');
    expect(shownValue('relay.pulseMs', 500)).toBe('500');
    expect(shownValue('x', undefined)).toBe('nothing');
    expect(shownValue('x', 'y'.repeat(200), 80)).toHaveLength(80);
  });
});

import { describe, expect, it } from 'vitest';
import { parseIdFlag, publishUrl } from '../../../src/cli/ops-flags.js';
import { isRidergateError } from '../../../src/errors.js';

/** The usage message `fn` throws. */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isRidergateError(err, 'usage')) return err.message;
    throw err;
  }
  throw new Error('expected a usage error');
}

describe('flags of the operations tools', () => {
  it('takes site and gate ids by the configuration rule and refuses others with the value', () => {
    expect(parseIdFlag('--site', 'north-park_2', 'site')).toBe('north-park_2');
    for (const value of ['', 'North', 'north park', '_site', 'a/b', '+', 'x'.repeat(65)]) {
      expect(usage(() => parseIdFlag('--site', value, 'site'))).toBe(
        `--site ${JSON.stringify(value)}: expected a site id: 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit`,
      );
    }
  });

  it('refuses broker flags without --publish, --publish without --url, and a non-MQTT URL', () => {
    expect(publishUrl({})).toBeUndefined();
    expect(publishUrl({ publish: true, url: 'mqtts://broker:8883' })).toBe('mqtts://broker:8883');
    expect(usage(() => publishUrl({ url: 'mqtt://b' }))).toBe('--url only applies with --publish');
    expect(usage(() => publishUrl({ username: 'ops' }))).toBe(
      '--username only applies with --publish',
    );
    expect(usage(() => publishUrl({ passwordFile: 'pw' }))).toBe(
      '--password-file only applies with --publish',
    );
    expect(usage(() => publishUrl({ publish: true }))).toBe('--publish needs --url');
    expect(usage(() => publishUrl({ publish: true, url: 'http://x' }))).toMatch(
      /^--url "http:\/\/x": scheme "http:" is not one of mqtt: /,
    );
    expect(usage(() => publishUrl({ publish: true, url: 'mqtt://u:secret@' }))).not.toContain(
      'secret',
    );
  });
});

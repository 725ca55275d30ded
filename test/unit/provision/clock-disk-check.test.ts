import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkClock } from '../../../src/provision/checks/clock-check.js';
import { checkDisk } from '../../../src/provision/checks/disk-check.js';
import { checkInput, fakeSystem } from './check-fixture.js';

describe('clock and disk checks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-clock-check-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on the systemd-timesyncd flag file', () => {
    const env = fakeSystem(dir);
    writeFileSync(env.timesyncFlag, '');
    expect(checkClock(checkInput(env))).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^synchronised \(systemd-timesyncd\)/),
    });
  });

  it('falls back to timedatectl, and warns with the fix when not synchronised', () => {
    const env = fakeSystem(dir);
    expect(checkClock(checkInput({ ...env, ntpSynchronized: () => 'yes' })).status).toBe('ok');
    expect(checkClock(checkInput({ ...env, ntpSynchronized: () => 'no' }))).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^not synchronised to NTP/),
      fix: expect.stringContaining('timedatectl set-ntp true'),
    });
  });

  it('fails a clock that is surely wrong (a Pi without RTC booting in 1970)', () => {
    const env = { ...fakeSystem(dir), nowMs: () => 0 };
    writeFileSync(env.timesyncFlag, '');
    expect(checkClock(checkInput(env))).toMatchObject({
      status: 'fail',
      detail:
        'the clock says 1970-01-01T00:00:00.000Z, which cannot be right; every token would be refused',
    });
  });

  it('reports the free space of the folder that will hold the store, even before it exists', () => {
    const input = checkInput(fakeSystem(dir), {
      store: { path: join(dir, 'not', 'yet', 'gate.db') },
    });
    expect(checkDisk(input)).toMatchObject({
      detail: expect.stringMatching(new RegExp(`^\\d+ MiB free in ${dir}$`)),
    });
  });
});

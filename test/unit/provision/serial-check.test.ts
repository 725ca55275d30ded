import { chmodSync, chownSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkScannerDevice } from '../../../src/provision/checks/serial-check.js';
import { PtyPair, socatAvailable } from '../../helpers/pty.js';
import { checkInput, FAKE, fakeSystem } from './check-fixture.js';

const serial = (path: string) => ({ scanner: { driver: 'serial', path } });

describe('scanner device check', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-serial-check-'));
  });
  let pty: PtyPair | undefined;
  afterAll(async () => {
    await pty?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('skips a sim scanner and fails a missing device with where to look', async () => {
    const env = fakeSystem(dir);
    expect(await checkScannerDevice(checkInput(env))).toMatchObject({ status: 'skip' });
    expect(await checkScannerDevice(checkInput(env, serial(join(dir, 'ttyACM9'))))).toEqual({
      check: 'scanner device',
      status: 'fail',
      detail: `scanner.path ${join(dir, 'ttyACM9')} does not exist`,
      fix: expect.stringContaining('/dev/serial/by-id/'),
    });
  });

  // Field case S8: the service user may not open the device. Needs root to chown the pty.
  describe.skipIf(!socatAvailable() || process.getuid?.() !== 0)('on a pty (socat)', () => {
    let device = '';
    const link = () => join(dir, 'a');
    beforeEach(async () => {
      await pty?.stop();
      pty = new PtyPair(dir);
      await pty.start();
      device = realpathSync(pty.a);
    });

    it('passes when the service user is in the group that owns the device', async () => {
      chownSync(device, 0, FAKE.dialout);
      chmodSync(device, 0o660);
      const result = await checkScannerDevice(
        checkInput(fakeSystem(dir, ['dialout']), serial(link())),
      );
      expect(result).toEqual({
        check: 'scanner device',
        status: 'ok',
        detail: `${link()} opens for reading and writing`,
      });
    });

    it('names the user, the device, its group and the usermod fix when the user is not in dialout', async () => {
      chownSync(device, 0, FAKE.dialout);
      chmodSync(device, 0o660);
      const result = await checkScannerDevice(checkInput(fakeSystem(dir, []), serial(link())));
      expect(result).toEqual({
        check: 'scanner device',
        status: 'fail',
        detail: `user ridergate (groups ridergate) cannot read and write ${link()} (owner uid 0, group dialout, mode 0660)`,
        fix: 'usermod -aG dialout ridergate, then restart the service',
      });
    });

    it('asks for a udev rule when the device mode gives its group nothing (chmod 600)', async () => {
      chownSync(device, 0, FAKE.dialout);
      chmodSync(device, 0o600);
      const result = await checkScannerDevice(
        checkInput(fakeSystem(dir, ['dialout']), serial(link())),
      );
      expect(result.status).toBe('fail');
      expect(result.detail).toContain('mode 0600');
      expect(result.fix).toMatch(/^add a udev rule setting GROUP="dialout", MODE="0660"/);
    });
  });
});

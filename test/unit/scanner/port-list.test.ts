import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listSerialDevices, onPath } from '../../../src/scanner/port-list.js';

describe('listSerialDevices (S9)', () => {
  let dir: string;
  let byIdDir: string;
  let binDir: string;
  let ttyACM1: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-ports-'));
    byIdDir = join(dir, 'serial', 'by-id');
    binDir = join(dir, 'bin');
    mkdirSync(byIdDir, { recursive: true });
    mkdirSync(binDir);
    ttyACM1 = join(dir, 'ttyACM1');
    writeFileSync(ttyACM1, '');
    symlinkSync(ttyACM1, join(byIdDir, 'usb-Acme_QR_0001-if00'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fakeUdevadm = () => {
    writeFileSync(join(binDir, 'udevadm'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(binDir, 'udevadm'), 0o755);
  };

  it('without udevadm: the by-id links resolved and the configured path, with a note', async () => {
    let listed = false;
    const listing = await listSerialDevices(ttyACM1, {
      listPorts: async () => {
        listed = true;
        return [];
      },
      byIdDir,
      pathEnv: binDir,
    });
    expect(listed).toBe(false);
    expect(listing.udev).toBe(false);
    expect(listing.ports).toEqual([
      {
        path: join(byIdDir, 'usb-Acme_QR_0001-if00'),
        device: ttyACM1,
        byId: [join(byIdDir, 'usb-Acme_QR_0001-if00')],
        foundBy: ['by-id', 'configured'],
        configured: true,
      },
    ]);
    expect(listing.notes[0]).toMatch(/^udevadm is not on PATH \(no udev tools\)/);
    expect(listing.notes[1]).toMatch(/may change after a replug: use its by-id link instead$/);
  });

  it("with udevadm: merges serialport's ports with their by-id links", async () => {
    fakeUdevadm();
    expect(onPath('udevadm', binDir)).toBe(true);
    const listing = await listSerialDevices(undefined, {
      listPorts: async () => [
        { path: ttyACM1, vendorId: '0c2e', productId: '0b61', manufacturer: 'Acme' },
        { path: join(dir, 'ttyUSB0') },
      ],
      byIdDir,
      pathEnv: binDir,
    });
    expect(listing.notes).toEqual([]);
    expect(listing.ports.map((p) => [p.path, p.foundBy, p.info])).toEqual([
      [join(byIdDir, 'usb-Acme_QR_0001-if00'), ['serialport', 'by-id'], '0c2e:0b61 Acme'],
      [join(dir, 'ttyUSB0'), ['serialport'], undefined],
    ]);
  });

  it('never throws: a failing listing, a missing by-id folder and a missing device are notes', async () => {
    fakeUdevadm();
    rmSync(join(dir, 'serial'), { recursive: true });
    const listing = await listSerialDevices(join(dir, 'ttyACM9'), {
      listPorts: async () => {
        throw new Error('udevadm exited with error code: 1');
      },
      byIdDir,
      pathEnv: binDir,
    });
    expect(listing.ports).toEqual([
      expect.objectContaining({ path: join(dir, 'ttyACM9'), device: undefined, configured: true }),
    ]);
    expect(listing.notes).toEqual([
      'serialport could not list ports (udevadm exited with error code: 1); showing the rest',
      `${byIdDir} does not exist: no USB serial device is plugged in, or udev is not running`,
      `the configured scanner.path ${join(dir, 'ttyACM9')} does not exist now (unplugged, or misspelt)`,
    ]);
  });
});

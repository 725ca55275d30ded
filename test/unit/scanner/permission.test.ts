import { describe, expect, it } from 'vitest';
import {
  describePermissionDenied,
  groupNameOf,
  type PermissionProbe,
} from '../../../src/scanner/permission.js';

const GROUP_FILE = 'root:x:0:\ntty:x:5:\ndialout:x:20:pi\nuucp:x:14:\n';

function probe(overrides: Partial<PermissionProbe> = {}): PermissionProbe {
  return {
    stat: () => ({ gid: 20, mode: 0o20660 }),
    readGroupFile: () => GROUP_FILE,
    userName: () => 'ridergate',
    ...overrides,
  };
}

describe('groupNameOf', () => {
  it('finds a group name by id in /etc/group text', () => {
    expect(groupNameOf(20, GROUP_FILE)).toBe('dialout');
    expect(groupNameOf(14, GROUP_FILE)).toBe('uucp');
    expect(groupNameOf(99, GROUP_FILE)).toBeUndefined();
  });
});

describe('describePermissionDenied (S8)', () => {
  it('names the path, the group that owns the device and the command that fixes it', () => {
    expect(describePermissionDenied('/dev/ttyACM0', probe())).toEqual({
      group: 'dialout',
      detail:
        'cannot open /dev/ttyACM0: permission denied; add the service user to the group that owns it (dialout): usermod -aG dialout ridergate, then restart the service',
    });
  });

  it('names another owning group, and the user the process runs as', () => {
    const found = describePermissionDenied(
      '/dev/ttyUSB0',
      probe({ stat: () => ({ gid: 14, mode: 0o20660 }), userName: () => 'gate' }),
    );
    expect(found.group).toBe('uucp');
    expect(found.detail).toContain('(uucp): usermod -aG uucp gate');
  });

  it('falls back to dialout and ridergate when nothing can be read, and never throws', () => {
    const fail = () => {
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    };
    const found = describePermissionDenied(
      '/dev/ttyACM0',
      probe({ stat: fail, readGroupFile: fail, userName: fail }),
    );
    expect(found.group).toBe('dialout');
    expect(found.detail).toContain('usermod -aG dialout ridergate');
  });

  it('falls back to dialout when the gid is not in /etc/group', () => {
    const found = describePermissionDenied(
      '/dev/ttyACM0',
      probe({ stat: () => ({ gid: 4242, mode: 0o20660 }) }),
    );
    expect(found.group).toBe('dialout');
  });

  it('asks for a udev rule when the device mode gives its group no access (chmod 600)', () => {
    const found = describePermissionDenied(
      '/dev/ttyACM0',
      probe({ stat: () => ({ gid: 0, mode: 0o20600 }) }),
    );
    expect(found.group).toBe('root');
    expect(found.detail).toBe(
      'cannot open /dev/ttyACM0: permission denied; its mode 0600 gives its group (root) no read/write access: add a udev rule setting GROUP="dialout", MODE="0660" for the scanner, then usermod -aG dialout ridergate and restart the service',
    );
  });
});

import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';

/** The group that owns serial devices on Raspberry Pi OS and Debian; the fallback name. */
export const SERIAL_GROUP = 'dialout';

/** The user the systemd unit runs the gate as; named when the process user is unknown. */
const SERVICE_USER = 'ridergate';

/** What {@link describePermissionDenied} reads from the system; injected by tests. */
export interface PermissionProbe {
  /** The device's owning group id and mode bits (fs.statSync, following links). */
  stat(path: string): { gid: number; mode: number };
  /** The text of /etc/group. */
  readGroupFile(): string;
  /** The name of the user this process runs as. */
  userName(): string;
}

/** The real system. */
export const systemPermissionProbe: PermissionProbe = {
  stat: (path) => statSync(path),
  readGroupFile: () => readFileSync('/etc/group', 'utf8'),
  userName: () => userInfo().username,
};

/** An actionable description of an EACCES on opening the scanner device. */
export interface PermissionDenied {
  /** The group that owns the device, or `dialout` when it cannot be found out. */
  group: string;
  /** One line naming the path, the cause and the fix. */
  detail: string;
}

/**
 * The name of group `gid` in /etc/group text (`name:password:gid:members` lines), or
 * undefined when no line names it.
 */
export function groupNameOf(gid: number, groupFile: string): string | undefined {
  for (const line of groupFile.split('\n')) {
    const [name, , id] = line.split(':');
    if (name !== undefined && name !== '' && id !== undefined && Number(id) === gid) return name;
  }
  return undefined;
}

/**
 * Explains field case S8 (the service user may not open the scanner device) in one line:
 * the path, the group that owns the device (from its gid via /etc/group, `dialout` when
 * either cannot be read) and the command that fixes it. When the device's mode gives its
 * group no read and write access, adding the user to the group would not help, so the detail
 * says to fix the mode with a udev rule instead. Never throws.
 */
export function describePermissionDenied(
  path: string,
  probe: PermissionProbe = systemPermissionProbe,
): PermissionDenied {
  const device = safely(() => probe.stat(path));
  const group =
    (device && safely(() => groupNameOf(device.gid, probe.readGroupFile()))) || SERIAL_GROUP;
  const user = safely(() => probe.userName()) || SERVICE_USER;
  const head = `cannot open ${path}: permission denied`;

  const groupCanReadWrite = device === undefined || (device.mode & 0o060) === 0o060;
  if (groupCanReadWrite) {
    return {
      group,
      detail: `${head}; add the service user to the group that owns it (${group}): usermod -aG ${group} ${user}, then restart the service`,
    };
  }
  const mode = (device.mode & 0o777).toString(8).padStart(4, '0');
  return {
    group,
    detail: `${head}; its mode ${mode} gives its group (${group}) no read/write access: add a udev rule setting GROUP="${SERIAL_GROUP}", MODE="0660" for the scanner, then usermod -aG ${SERIAL_GROUP} ${user} and restart the service`,
  };
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

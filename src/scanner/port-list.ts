import { accessSync, constants, existsSync, readdirSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SerialPort } from 'serialport';
import { describeError } from '../errors.js';

/** Where udev puts stable links named after each USB serial device. */
export const BY_ID_DIR = '/dev/serial/by-id';

/** What serialport tells about a port (a subset of its PortInfo). */
export interface SerialPortInfo {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

/** One serial device found, by any of the ways it was looked for. */
export interface ListedPort {
  /** The path to put in scanner.path: the by-id link when there is one. */
  path: string;
  /** The device node it resolves to now, e.g. /dev/ttyACM0; absent when it does not exist. */
  device?: string | undefined;
  /** Stable /dev/serial/by-id links pointing at it. */
  byId: string[];
  /** `vendor:product`, manufacturer and serial number when serialport found them. */
  info?: string | undefined;
  /** How it was found: serialport (udev), by-id, the configuration. */
  foundBy: ('serialport' | 'by-id' | 'configured')[];
  /** True for the device scanner.path names. */
  configured: boolean;
}

/** The result of {@link listSerialDevices}. */
export interface SerialListing {
  ports: ListedPort[];
  /** What is missing or could not be read, each a sentence with the fix. */
  notes: string[];
  /** True when serialport's full listing (which runs `udevadm`) was available. */
  udev: boolean;
}

/** What {@link listSerialDevices} reads from the system; injected by tests. */
export interface SerialListDeps {
  listPorts(): Promise<SerialPortInfo[]>;
  byIdDir: string;
  /** The PATH searched for udevadm. */
  pathEnv: string | undefined;
}

const systemDeps: SerialListDeps = {
  listPorts: () => SerialPort.list(),
  byIdDir: BY_ID_DIR,
  pathEnv: process.env.PATH,
};

/** True when an executable `name` is in one of the PATH folders. */
export function onPath(name: string, pathEnv: string | undefined): boolean {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

function resolved(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Lists serial devices a scanner could be on (field case S9): serialport's listing when
 * `udevadm` is on PATH (serialport runs it), the /dev/serial/by-id links resolved to their
 * device, and the configured path, merged by the device they resolve to. Without udev tools
 * it degrades to the by-id links and the configured path and says so in `notes`. Never throws.
 * @param configuredPath scanner.path, marked in the result; undefined when none is configured.
 */
export async function listSerialDevices(
  configuredPath: string | undefined,
  deps: SerialListDeps = systemDeps,
): Promise<SerialListing> {
  const notes: string[] = [];
  const byDevice = new Map<string, ListedPort>();
  const entry = (key: string, path: string): ListedPort => {
    let port = byDevice.get(key);
    if (port === undefined) {
      port = { path, device: resolved(path), byId: [], foundBy: [], configured: false };
      byDevice.set(key, port);
    }
    return port;
  };

  const udev = onPath('udevadm', deps.pathEnv);
  if (udev) {
    for (const info of await udevPorts(deps, notes)) {
      const port = entry(resolved(info.path) ?? info.path, info.path);
      port.foundBy.push('serialport');
      port.info = describeInfo(info);
    }
  } else {
    notes.push(
      `udevadm is not on PATH (no udev tools), so the full port listing is not available; showing ${deps.byIdDir}/* and the configured path only. Install udev (apt install udev) for the full list`,
    );
  }
  for (const link of byIdLinks(deps.byIdDir, notes)) {
    const port = entry(resolved(link) ?? link, link);
    port.byId.push(link);
    port.path = link; // the stable name is the one to configure
    port.foundBy.push('by-id');
  }
  if (configuredPath !== undefined) markConfigured(configuredPath, byDevice, entry, notes);
  return { ports: [...byDevice.values()], notes, udev };
}

async function udevPorts(deps: SerialListDeps, notes: string[]): Promise<SerialPortInfo[]> {
  try {
    return await deps.listPorts();
  } catch (err) {
    notes.push(`serialport could not list ports (${describeError(err)}); showing the rest`);
    return [];
  }
}

function byIdLinks(dir: string, notes: string[]): string[] {
  if (!existsSync(dir)) {
    notes.push(`${dir} does not exist: no USB serial device is plugged in, or udev is not running`);
    return [];
  }
  try {
    return readdirSync(dir)
      .sort()
      .map((name) => join(dir, name));
  } catch (err) {
    notes.push(`${dir} could not be read (${describeError(err)})`);
    return [];
  }
}

function markConfigured(
  path: string,
  byDevice: Map<string, ListedPort>,
  entry: (key: string, path: string) => ListedPort,
  notes: string[],
): void {
  const device = resolved(path);
  const port = entry(device ?? path, path);
  port.configured = true;
  port.foundBy.push('configured');
  if (device === undefined)
    notes.push(`the configured scanner.path ${path} does not exist now (unplugged, or misspelt)`);
  else if (!path.startsWith('/dev/serial/by-id/') && byDevice.get(device)?.byId.length)
    notes.push(`scanner.path ${path} may change after a replug: use its by-id link instead`);
}

function describeInfo(info: SerialPortInfo): string | undefined {
  const ids =
    info.vendorId !== undefined && info.productId !== undefined
      ? `${info.vendorId}:${info.productId}`
      : undefined;
  const serial = info.serialNumber === undefined ? undefined : `serial ${info.serialNumber}`;
  const parts = [ids, info.manufacturer, serial].filter((p) => p !== undefined && p !== '');
  return parts.length === 0 ? undefined : parts.join(' ');
}

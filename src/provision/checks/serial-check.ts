import { closeSync, constants, openSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { describeError } from '../../errors.js';
import { SERIAL_GROUP } from '../../scanner/permission.js';
import type { CheckInput, CheckResult } from '../check.js';
import { groupName, lookupUser, mayReadWrite } from './service-user.js';

const CHECK = 'scanner device';

/**
 * The scanner can be reached without reading from it: a serial device exists, the service
 * user may read and write it (field case S8: the user not in `dialout`), and it opens; a tcp
 * scanner accepts a connection. A sim scanner is skipped.
 */
export async function checkScannerDevice({ config, env }: CheckInput): Promise<CheckResult> {
  const scanner = config.scanner;
  if (scanner.driver === 'sim')
    return { check: CHECK, status: 'skip', detail: 'scanner.driver is sim' };
  if (scanner.driver === 'tcp') return checkTcp(scanner.host ?? '', scanner.port ?? 0);
  const path = scanner.path;
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    return {
      check: CHECK,
      status: 'fail',
      detail: `scanner.path ${path} does not exist`,
      fix: 'plug the scanner in and set scanner.path to its /dev/serial/by-id/... link (ridergate scanners lists them)',
    };
  }
  const permission = checkPermission(path, stat, env);
  if (permission !== undefined) return permission;
  return tryOpen(path);
}

function checkPermission(
  path: string,
  stat: { uid: number; gid: number; mode: number },
  env: CheckInput['env'],
): CheckResult | undefined {
  const user = lookupUser(env.serviceUser, env.passwdFile, env.groupFile);
  const group = groupName(stat.gid, env.groupFile);
  const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
  const owned = `owner uid ${stat.uid}, group ${group}, mode ${mode}`;
  if (user === undefined) {
    return {
      check: CHECK,
      status: 'warn',
      detail: `${path} (${owned}); user ${env.serviceUser} not found, permissions not checked`,
      fix: 'run scripts/install.sh, which creates the ridergate user in the dialout group',
    };
  }
  if (mayReadWrite(user, stat)) return undefined;
  const groupHasRw = (stat.mode & 0o060) === 0o060;
  const fix = groupHasRw
    ? `usermod -aG ${group} ${user.name}, then restart the service`
    : `add a udev rule setting GROUP="${SERIAL_GROUP}", MODE="0660" for the scanner, then usermod -aG ${SERIAL_GROUP} ${user.name}`;
  return {
    check: CHECK,
    status: 'fail',
    detail: `user ${user.name} (groups ${user.groups.join(',') || 'none'}) cannot read and write ${path} (${owned})`,
    fix,
  };
}

/** Opens the device without becoming its controlling terminal and without waiting for carrier. */
function tryOpen(path: string): CheckResult {
  try {
    const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    closeSync(fd);
    return { check: CHECK, status: 'ok', detail: `${path} opens for reading and writing` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EBUSY') {
      return {
        check: CHECK,
        status: 'warn',
        detail: `${path} is in use (a running gate holds it exclusively)`,
        fix: 'normal while the service runs; otherwise find the holder with fuser -v',
      };
    }
    return {
      check: CHECK,
      status: 'fail',
      detail: `${path} cannot be opened: ${describeError(err)}`,
      fix: 'check the cable and scanner.path (ridergate scanners lists the devices)',
    };
  }
}

/** Longest wait for a tcp scanner to accept a connection, ms. */
const TCP_TIMEOUT_MS = 3_000;

function checkTcp(host: string, port: number): Promise<CheckResult> {
  const where = `${host}:${port}`;
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: TCP_TIMEOUT_MS });
    const done = (result: CheckResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () =>
      done({ check: CHECK, status: 'ok', detail: `tcp scanner at ${where} accepts connections` }),
    );
    const fail = (why: string) =>
      done({
        check: CHECK,
        status: 'fail',
        detail: `tcp scanner at ${where}: ${why}`,
        fix: 'check scanner.host and scanner.port, the bridge power and the network',
      });
    socket.once('timeout', () => fail(`no answer within ${TCP_TIMEOUT_MS} ms`));
    socket.once('error', (err) => fail(describeError(err)));
  });
}

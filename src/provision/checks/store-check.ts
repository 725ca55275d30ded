import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeError } from '../../errors.js';
import { quickCheck } from '../../store/corrupt-file.js';
import { SqliteDb } from '../../store/sqlite.js';
import type { CheckInput, CheckResult } from '../check.js';
import { lookupUser, mayAccess } from './service-user.js';

const CHECK = 'database';

/**
 * The store's folder is writable by the service user and an existing database passes
 * `PRAGMA quick_check`, opened read-only so a running gate is not disturbed. A missing
 * database is fine: the gate creates it at its first start.
 */
export async function checkStore({ config, env }: CheckInput): Promise<CheckResult> {
  const path = config.store.path;
  const folder = nearestExisting(dirname(path));
  const user = lookupUser(env.serviceUser, env.passwdFile, env.groupFile);
  if (user !== undefined && !mayAccess(user, statSync(folder), 0o3)) {
    return {
      check: CHECK,
      status: 'fail',
      detail: `user ${user.name} cannot write ${folder}, where ${path} is kept`,
      fix: `chown ${user.name} ${folder}; chmod 0750 ${folder} (scripts/install.sh sets up /var/lib/ridergate)`,
    };
  }
  if (statSync(path, { throwIfNoEntry: false })?.isFile() === false)
    return {
      check: CHECK,
      status: 'fail',
      detail: `store.path ${path} is a folder (or a device), not a database file`,
      fix: `set store.path to a file in it, e.g. ${path.replace(/\/+$/, '')}/ridergate.db`,
    };
  if (!existsSync(path))
    return {
      check: CHECK,
      status: 'ok',
      detail: `${path} not created yet; the gate creates it (and its folder) at start`,
    };
  return integrity(path);
}

async function integrity(path: string): Promise<CheckResult> {
  let db: SqliteDb | undefined;
  try {
    db = await SqliteDb.open(path, true);
    await quickCheck(db);
    return { check: CHECK, status: 'ok', detail: `${path} passes quick_check` };
  } catch (err) {
    return {
      check: CHECK,
      status: 'fail',
      detail: `${path}: ${describeError(err)}`,
      fix: 'restart the service: at start the gate moves a corrupt file aside (.corrupt-<time>) and starts a fresh one',
    };
  } finally {
    await db?.close().catch(() => undefined);
  }
}

/** The folder itself, or the closest parent that exists (the gate creates the rest). */
function nearestExisting(folder: string): string {
  let current = folder;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheckInput, CheckResult } from '../check.js';
import { type FileIds, lookupUser, mayAccess, type UserIds } from './service-user.js';

const CHECK = 'files';

/**
 * Every file the gate reads at start (configuration, root key, trust list, password, TLS
 * files) exists and the service user may read it, through folders it may enter. A file made
 * by `sudo ridergate provision` but owned by root with mode 0600 is the usual miss.
 */
export function checkFiles({ config, configFile, env }: CheckInput): CheckResult {
  const m = config.mqtt;
  const files: [string, string | undefined][] = [
    ['configuration', configFile],
    ['trust.rootKeyFile', config.trust.rootKeyFile],
    ['trust.file', config.trust.file],
    ['mqtt.passwordFile', m.passwordFile],
    ['mqtt.caFile', m.caFile],
    ['mqtt.certFile', m.certFile],
    ['mqtt.keyFile', m.keyFile],
  ];
  const user = lookupUser(env.serviceUser, env.passwdFile, env.groupFile);
  const problems: string[] = [];
  let checked = 0;
  for (const [field, path] of files) {
    if (path === undefined) continue;
    checked += 1;
    const problem = readProblem(path, user);
    if (problem !== undefined) problems.push(`${field} ${path}: ${problem}`);
  }
  if (problems.length === 0)
    return {
      check: CHECK,
      status: 'ok',
      detail: `${checked} file(s) readable by ${env.serviceUser}`,
    };
  return {
    check: CHECK,
    status: 'fail',
    detail: problems.join('; '),
    fix: `chgrp ${env.serviceUser} FILE && chmod 640 FILE (secrets stay unreadable to others)`,
  };
}

function readProblem(path: string, user: UserIds | undefined): string | undefined {
  let stat: FileIds;
  try {
    stat = statSync(path);
  } catch {
    return 'does not exist';
  }
  if (user === undefined) return undefined;
  if (!mayAccess(user, stat, 0o4))
    return `user ${user.name} cannot read it (mode ${octal(stat.mode)})`;
  for (let folder = dirname(path); folder !== dirname(folder); folder = dirname(folder)) {
    const dir = statSync(folder);
    if (!mayAccess(user, dir, 0o1))
      return `user ${user.name} cannot enter ${folder} (mode ${octal(dir.mode)})`;
  }
  return undefined;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

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
  const kinds = new Set<ProblemKind>();
  let checked = 0;
  for (const [field, path] of files) {
    if (path === undefined) continue;
    checked += 1;
    const problem = readProblem(path, user);
    if (problem === undefined) continue;
    problems.push(`${field} ${path}: ${problem.text}`);
    kinds.add(problem.kind);
  }
  if (problems.length === 0)
    return {
      check: CHECK,
      status: 'ok',
      detail: `${checked} file(s) readable by ${env.serviceUser}`,
    };
  const fixes: Record<ProblemKind, string> = {
    missing:
      'create the missing file, or correct the setting that names it (ridergate provision copies them into /etc/ridergate)',
    folder: 'point the setting at the file, not at its folder',
    access: `chgrp ${env.serviceUser} FILE && chmod 640 FILE (secrets stay unreadable to others)`,
  };
  return {
    check: CHECK,
    status: 'fail',
    detail: problems.join('; '),
    fix: [...kinds].map((kind) => fixes[kind]).join('; '),
  };
}

/** What is wrong with a file the gate reads, in three kinds that each have their own fix. */
type ProblemKind = 'missing' | 'folder' | 'access';

function readProblem(
  path: string,
  user: UserIds | undefined,
): { kind: ProblemKind; text: string } | undefined {
  let stat: FileIds & { isDirectory(): boolean };
  try {
    stat = statSync(path);
  } catch {
    return { kind: 'missing', text: 'does not exist' };
  }
  if (stat.isDirectory()) return { kind: 'folder', text: 'is a folder, not a file' };
  if (user === undefined) return undefined;
  if (!mayAccess(user, stat, 0o4))
    return { kind: 'access', text: `user ${user.name} cannot read it (mode ${octal(stat.mode)})` };
  for (let folder = dirname(path); folder !== dirname(folder); folder = dirname(folder)) {
    const dir = statSync(folder);
    if (!mayAccess(user, dir, 0o1))
      return {
        kind: 'access',
        text: `user ${user.name} cannot enter ${folder} (mode ${octal(dir.mode)})`,
      };
  }
  return undefined;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

import { readFileSync } from 'node:fs';

/** A user as /etc/passwd and /etc/group describe it. */
export interface UserIds {
  name: string;
  uid: number;
  /** Primary group and every supplementary group naming the user. */
  gids: number[];
  /** Names of those groups, for messages. */
  groups: string[];
}

/**
 * Looks a user up in passwd and group files (`name:x:uid:gid:...`, `name:x:gid:members`).
 * @returns undefined when the user is not in the passwd file or a file cannot be read.
 */
export function lookupUser(
  name: string,
  passwdFile: string,
  groupFile: string,
): UserIds | undefined {
  let passwd: string;
  let group: string;
  try {
    passwd = readFileSync(passwdFile, 'utf8');
    group = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  const entry = passwd.split('\n').find((line) => line.split(':')[0] === name);
  if (entry === undefined) return undefined;
  const [, , uid, gid] = entry.split(':');
  const primary = Number(gid);
  const gids = [primary];
  const groups: string[] = [];
  for (const line of group.split('\n')) {
    const [groupName, , id, members] = line.split(':');
    if (groupName === undefined || id === undefined) continue;
    const member = (members ?? '').split(',').includes(name);
    if (member || Number(id) === primary) {
      gids.push(Number(id));
      groups.push(groupName);
    }
  }
  return { name, uid: Number(uid), gids: [...new Set(gids)], groups };
}

/** The name of group `gid` in a group file, or the number as text. */
export function groupName(gid: number, groupFile: string): string {
  try {
    for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === gid) return name;
    }
  } catch {
    // the number is still a useful answer
  }
  return String(gid);
}

/**
 * Whether `user` may read and write a file of owner `uid`, group `gid` and `mode`, by the
 * permission bits as the kernel checks them (owner class first, then group, then others).
 * Root may always, as the kernel's CAP_DAC_OVERRIDE allows.
 */
export function mayReadWrite(user: UserIds, file: FileIds): boolean {
  return mayAccess(user, file, 0o6);
}

/** Owner, group and mode bits of a file (fs.Stats has them). */
export interface FileIds {
  uid: number;
  gid: number;
  mode: number;
}

/** Whether `user` has every permission of `bits` (0o4 read, 0o2 write) on the file. */
export function mayAccess(user: UserIds, file: FileIds, bits: number): boolean {
  if (user.uid === 0) return true;
  const has = (classBits: number) => (classBits & bits) === bits;
  if (file.uid === user.uid) return has(file.mode >> 6);
  if (user.gids.includes(file.gid)) return has(file.mode >> 3);
  return has(file.mode);
}

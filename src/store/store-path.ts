import type { Stats } from 'node:fs';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errorCode, pathError } from './store-errors.js';

/** Kernel filesystems that hold no storage; Node's recursive mkdir can even hang under /proc. */
const KERNEL_FOLDERS: readonly { folder: string; what: string }[] = [
  { folder: '/proc', what: 'the kernel process filesystem' },
  { folder: '/sys', what: 'the kernel device filesystem' },
  { folder: '/dev', what: 'device files and volatile memory' },
];

/**
 * Checks that `path` can hold the database and creates its folder when missing, so that a
 * wrong `store.path` is reported in words instead of as a driver code.
 * @throws RidergateError `store_failed` naming the path and the problem: a kernel
 *   filesystem, a directory or other non-file at `path`, a file in the way of the folder, a
 *   folder that cannot be created.
 */
export async function prepareStorePath(path: string): Promise<void> {
  const absolute = resolve(path);
  refuseKernelPath(path, absolute);

  const existing = await statOrUndefined(path, absolute);
  if (existing?.isDirectory()) {
    throw pathError(path, 'not a database file path (it is a directory)');
  }
  if (existing !== undefined && !existing.isFile()) {
    throw pathError(path, 'not a database file path (it is not a regular file)');
  }

  const folder = dirname(absolute);
  const ancestor = await nearestExisting(path, folder);
  // A symlink may lead into a kernel filesystem: check where the folder really is.
  refuseKernelPath(path, await realpath(ancestor.path));
  if (!ancestor.stats.isDirectory()) {
    throw pathError(path, `cannot create the folder ${ancestor.path} (a file is in the way)`);
  }
  if (ancestor.path === folder) return;
  try {
    await mkdir(folder, { recursive: true });
  } catch (err) {
    const code = errorCode(err) ?? 'error';
    const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code;
    throw pathError(path, `cannot create the folder ${folder} (${reason})`, { errCode: code });
  }
}

function refuseKernelPath(path: string, absolute: string): void {
  for (const { folder, what } of KERNEL_FOLDERS) {
    if (absolute === folder || absolute.startsWith(`${folder}/`)) {
      throw pathError(path, `not a place for a database (${folder} holds ${what}, not storage)`);
    }
  }
}

async function statOrUndefined(path: string, absolute: string): Promise<Stats | undefined> {
  try {
    return await stat(absolute);
  } catch (err) {
    const code = errorCode(err);
    // ENOTDIR: a parent is a file; nearestExisting() names it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw pathError(path, `cannot inspect ${absolute} (${code ?? 'error'})`, { errCode: code });
  }
}

/** The closest folder (or file in the way) on the way up from `folder` that exists. */
async function nearestExisting(
  path: string,
  folder: string,
): Promise<{ path: string; stats: Stats }> {
  let current = folder;
  for (;;) {
    const stats = await statOrUndefined(path, current);
    if (stats !== undefined) return { path: current, stats };
    const parent = dirname(current);
    if (parent === current) throw pathError(path, 'no folder on the way up exists');
    current = parent;
  }
}

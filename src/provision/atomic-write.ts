import {
  closeSync,
  copyFileSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RidergateError } from '../errors.js';

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Permission bits of the new file, e.g. 0o600 for a secret. */
  mode: number;
  /** Copy a file already at `path` to `<path>.bak` first. */
  keepBackup?: boolean;
  /**
   * Checks the complete temporary file before it replaces `path`; a throw leaves `path`
   * untouched and the temporary file removed.
   */
  verify?: (temporaryPath: string) => void | Promise<void>;
}

/**
 * Writes `path` so that it is never seen half-written, even across a power cut: the data
 * goes to a temporary file in the same folder (same filesystem, so rename(2) is atomic),
 * which is fsynced, checked, renamed over `path`, and the folder fsynced so the rename
 * itself is on disk.
 * @throws RidergateError `usage` naming the file and why it could not be written, or what
 *   `verify` threw.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeSynced(temporary, data, options.mode);
    await options.verify?.(temporary);
    if (options.keepBackup === true && existsSync(path)) copyFileSync(path, `${path}.bak`);
    renameSync(temporary, path);
    syncFolder(dirname(path));
  } catch (err) {
    rmSync(temporary, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    // Only a failed system call is a write problem; what `verify` threw is passed on as is.
    if (err instanceof RidergateError || typeof code !== 'string') throw err;
    throw new RidergateError('usage', `cannot write ${path} (${code})`, { cause: err });
  }
}

function writeSynced(path: string, data: string | Uint8Array, mode: number): void {
  // 'wx': a leftover temporary file of a crashed run with this pid is an error, not reused.
  rmSync(path, { force: true });
  const fd = openSync(path, 'wx', mode);
  try {
    fchmodSync(fd, mode); // the process umask may have taken bits away
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a folder makes a rename in it durable (ext4 on an SD card). */
function syncFolder(folder: string): void {
  const fd = openSync(folder, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

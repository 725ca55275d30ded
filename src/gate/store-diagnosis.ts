import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError, isRidergateError, RidergateError } from '../errors.js';
import { errorCode } from '../store/store-errors.js';

/**
 * Adds what the store's folder shows to an error of a store that could not be opened. SQLite
 * reports a database it cannot create on a read-only filesystem as SQLITE_CANTOPEN, which
 * reads like a missing folder; the filesystem tells the real reason.
 * @returns `err` itself when the folder shows nothing more, else a `store_failed` error.
 */
export async function diagnoseStoreFailure(path: string, err: unknown): Promise<unknown> {
  const hint = await folderProblem(dirname(path));
  const message = describeError(err);
  if (hint === undefined || message.includes(hint)) return err;
  return new RidergateError('store_failed', `${message} (${hint})`, {
    context: { ...(isRidergateError(err) ? err.context : {}), hint },
  });
}

async function folderProblem(folder: string): Promise<string | undefined> {
  try {
    await access(folder, constants.W_OK);
  } catch (err) {
    // access(2) answers EROFS for write access on a read-only filesystem.
    return errorCode(err) === 'EROFS' ? 'the filesystem is read-only' : undefined;
  }
  try {
    const stats = await statfs(folder);
    return stats.bavail === 0 ? 'the disk is full' : undefined;
  } catch {
    return undefined;
  }
}

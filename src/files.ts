import {
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ErrorCode, RidergateError } from './errors.js';

/** How to read one input file and what to call it in errors. */
export interface BoundedRead {
  /** Largest size accepted, bytes. */
  maxBytes: number;
  /** The error code thrown for every problem. */
  code: ErrorCode;
  /** What the file is, for messages: e.g. `trust list`, `key file`. */
  what: string;
}

/**
 * Reads a regular file of bounded size. Devices, FIFOs, sockets and folders are refused before
 * they are opened (a FIFO would block, /dev/zero would never end), and so is a file over the
 * limit, so no input can hang the process or fill its memory.
 * @throws RidergateError with `opts.code`, naming the path and what is wrong.
 */
export function readBoundedFile(path: string, opts: BoundedRead): Buffer {
  if (path.length === 0) throw new RidergateError(opts.code, `${opts.what}: the path is empty`);
  const stat = statOrThrow(path, opts);
  if (stat.isDirectory())
    throw new RidergateError(opts.code, `${path}: is a folder; expected a ${opts.what}`);
  if (!stat.isFile()) {
    throw new RidergateError(
      opts.code,
      `${path}: not a regular file (a device, FIFO or socket); expected a ${opts.what}`,
    );
  }
  if (stat.size > opts.maxBytes) {
    throw new RidergateError(
      opts.code,
      `${path}: ${stat.size} bytes is too large for a ${opts.what}; the limit is ${opts.maxBytes}`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw unreadable(path, opts, err);
  }
  if (bytes.length > opts.maxBytes) {
    throw new RidergateError(
      opts.code,
      `${path}: grew past the limit of ${opts.maxBytes} bytes while being read`,
    );
  }
  return bytes;
}

/** The stat of `path`, or the error a user understands. */
export function statOrThrow(path: string, opts: Pick<BoundedRead, 'code' | 'what'>): Stats {
  try {
    return statSync(path);
  } catch (err) {
    throw unreadable(path, opts, err);
  }
}

function unreadable(
  path: string,
  opts: Pick<BoundedRead, 'code' | 'what'>,
  err: unknown,
): RidergateError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
  return new RidergateError(opts.code, `${path}: cannot read the ${opts.what} (${why})`, {
    cause: err,
    context: { errno: code },
  });
}

/** Kernel filesystems where a folder or file of ours makes no sense (and mkdir may hang). */
const KERNEL_FOLDERS = ['/proc/', '/sys/', '/dev/'];

/**
 * Creates a folder (and its parents) for output, with an error that names the flag or setting.
 * @param what names the place in messages, e.g. `--out /srv/keys`.
 * @throws RidergateError `usage` when the folder cannot be made.
 */
export function makeFolder(path: string, what: string): void {
  if (path.length === 0) throw new RidergateError('usage', `${what}: the path is empty`);
  if (KERNEL_FOLDERS.some((prefix) => `${path}/`.startsWith(prefix))) {
    throw new RidergateError(
      'usage',
      `${what}: ${path} is on a kernel filesystem; choose a folder on disk`,
    );
  }
  try {
    mkdirSync(path, { recursive: true });
  } catch (err) {
    throw new RidergateError(
      'usage',
      `${what}: cannot create the folder ${path} (${explainWriteError(err)})`,
      { cause: err },
    );
  }
}

/**
 * Writes an output file, replacing it atomically (write to a temporary name, then rename), so
 * a reader never sees half of it.
 * @throws RidergateError `usage` naming `what` and the reason.
 */
export function writeOutputFile(
  path: string,
  data: string | Uint8Array,
  what: string,
  mode = 0o644,
): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, data, { mode });
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw new RidergateError('usage', `${what}: cannot write ${path} (${explainWriteError(err)})`, {
      cause: err,
    });
  }
}

function explainWriteError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const reasons: Record<string, string> = {
    EEXIST: 'a file is in the way',
    ENOTDIR: 'a file is in the way',
    EISDIR: 'it is a folder',
    EACCES: 'permission denied',
    EROFS: 'read-only filesystem',
    ENOSPC: 'no space left',
    ENOENT: 'the folder does not exist',
  };
  return reasons[code] ?? code;
}

/**
 * Replaces `path` with `text` so that a power cut leaves the old content or the new, never a
 * torn file: a temporary file beside it, fsync, rename over `path`, then an fsync of the folder
 * (POSIX: the directory entry lives in the folder). For small state files (seq ceiling, time
 * floor). Rejects with the file system's error.
 */
export async function writeFileDurably(path: string, text: string, mode = 0o644): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w', mode);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  await syncFolder(dirname(path));
}

/** Makes a rename in `folder` durable; some filesystems refuse fsync on a folder (ignored). */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // EINVAL on some filesystems: the rename itself has happened.
  }
}

import { readFile } from 'node:fs/promises';
import { writeFileDurably } from '../files.js';
import { errorCode } from './store-errors.js';

/** Seqs reserved per sidecar write: one small file write per this many events. */
export const DEFAULT_SEQ_BLOCK = 1000;

/**
 * The seq high-water file beside the database (`<db>.seq`): a ceiling no seq handed out
 * has passed. It outlives the database, so a fresh database made after a corrupt one was
 * moved aside starts above every seq the old one gave, and no seq is ever reused.
 *
 * The ceiling is raised a block at a time, before any seq of the block is handed out, so the
 * file is written once per block and never on the other events.
 */
export class SeqCeiling {
  /** The sidecar's path, `<db>.seq`. */
  readonly path: string;
  private ceiling = 0;

  /**
   * @param dbPath the database file; the sidecar sits beside it.
   * @param blockSize seqs reserved per write.
   * @param onWrite called after each write with the new ceiling (for a log line).
   */
  constructor(
    dbPath: string,
    private readonly blockSize: number,
    private readonly onWrite: (ceiling: number, reason: 'reserve' | 'reset') => void,
  ) {
    this.path = `${dbPath}.seq`;
  }

  /**
   * Reads the sidecar. `undefined` when it is missing or does not hold a whole number (then
   * the caller rebuilds it with {@link reset}).
   * @throws Error from the filesystem other than a missing file.
   */
  async read(): Promise<number | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    const value = Number(text.trim());
    return /^\d+$/.test(text.trim()) && Number.isSafeInteger(value) ? value : undefined;
  }

  /** Uses `ceiling` as is, already on disk. */
  adopt(ceiling: number): void {
    this.ceiling = ceiling;
  }

  /** Writes `ceiling` to the sidecar (when it differs from what is known) and uses it. */
  async reset(ceiling: number, onDisk: number | undefined): Promise<void> {
    if (onDisk !== ceiling) await this.write(ceiling, 'reset');
    this.ceiling = ceiling;
  }

  /**
   * Makes sure `seq` lies under the ceiling, reserving the next block first when it does not.
   * Call before the seq is committed.
   */
  async cover(seq: number): Promise<void> {
    if (seq <= this.ceiling) return;
    const next = Math.max(this.ceiling, seq - 1) + this.blockSize;
    await this.write(next, 'reserve');
    this.ceiling = next;
  }

  /** Write to a temporary file, fsync, rename over the sidecar, fsync the folder. */
  private async write(ceiling: number, reason: 'reserve' | 'reset'): Promise<void> {
    await writeFileDurably(this.path, `${ceiling}\n`);
    this.onWrite(ceiling, reason);
  }
}

import { readFileSync } from 'node:fs';
import { writeFileDurably } from '../files.js';

/**
 * The persisted time floor beside the database (`<db>.floor`): the last time the gate knew to
 * be good, in ms since the epoch. It is read synchronously at construction, before the store
 * opens, so every event of a run (its `boot` event included) is stamped at or after it.
 *
 * Written with the same care as the seq sidecar (temporary file, fsync, rename, fsync of the
 * folder), and only when it moved forward: a few writes an hour at most (SD card wear).
 */
export class TimeFloorFile {
  /** The sidecar's path, `<db>.floor`. */
  readonly path: string;

  /** @param dbPath the database file; the sidecar sits beside it. */
  constructor(dbPath: string) {
    this.path = `${dbPath}.floor`;
  }

  /**
   * The floor on disk, or `undefined` when the file is missing, unreadable or does not hold a
   * whole number of ms (a torn or tampered file is ignored, never trusted).
   */
  read(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8').trim();
    } catch {
      return undefined;
    }
    if (!/^\d{1,16}$/.test(text)) return undefined;
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : undefined;
  }

  /** Writes `floorMs`: temporary file, fsync, rename over the sidecar, fsync of the folder. */
  async write(floorMs: number): Promise<void> {
    await writeFileDurably(this.path, `${Math.floor(floorMs)}\n`);
  }
}

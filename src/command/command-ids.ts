import type { SqliteDb } from '../store/sqlite.js';

/** Where command ids live: a {@link SqliteStore} has it. */
export interface CommandIdStore {
  withTransaction<T>(op: string, fn: (db: SqliteDb) => Promise<T>): Promise<T>;
}

/**
 * Remembers the jti of every command taken, in the store (table `command_ids`), so a command
 * runs at most once, also across restarts. Entries go once their command has expired (plus
 * the skew), when no copy of it can be accepted any more.
 */
export class CommandIds {
  constructor(
    private readonly store: CommandIdStore,
    private readonly skewSec: number,
  ) {}

  /**
   * Takes `jti` when it was never seen; false when it was. Prunes expired ids in the same
   * transaction. Rejects when the store fails: the caller refuses the command (fail closed).
   */
  take(jti: string, expSec: number, nowSec: number): Promise<boolean> {
    return this.store.withTransaction('commandId', async (db) => {
      await db.run('DELETE FROM command_ids WHERE exp_sec < ?', [nowSec - this.skewSec]);
      const result = await db.run(
        'INSERT INTO command_ids (jti, exp_sec) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING',
        [jti, expSec],
      );
      return result.changes === 1;
    });
  }
}

import sqlite3 from 'sqlite3';

/** A value bound to a `?` placeholder. */
export type SqlParam = string | number | null;

/** What a write statement reports. */
export interface RunResult {
  /** Rows changed by the statement. */
  changes: number;
  /** Row id of the last inserted row. */
  lastId: number;
}

/**
 * A small promise wrapper around one asynchronous `sqlite3` connection. Statements run on
 * sqlite3's worker thread, so an fsync never stalls the event loop.
 */
export class SqliteDb {
  private readonly db: sqlite3.Database;

  private constructor(db: sqlite3.Database) {
    this.db = db;
  }

  /**
   * Opens (and creates if missing) the database file at `path`; with `readOnly` the file must
   * exist and is never written, so a reader can sit beside the running daemon (WAL mode).
   */
  static open(path: string, readOnly = false): Promise<SqliteDb> {
    const mode = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(path, mode, (err) => {
        if (err) reject(err);
        else resolve(new SqliteDb(db));
      });
    });
  }

  /** Runs one statement that returns no rows. */
  run(sql: string, params: readonly SqlParam[] = []): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, function onRun(err) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastId: this.lastID });
      });
    });
  }

  /** Runs one query and returns its first row, if any. */
  get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.db.get(sql, params, (err: Error | null, row: T | undefined) => {
        if (err) reject(err);
        else resolve(row);
      });
    });
  }

  /** Runs one query and returns all its rows. */
  all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, params, (err: Error | null, rows: T[]) => {
        if (err) reject(err);
        else resolve(rows);
      });
    });
  }

  /** Runs several `;`-separated statements without parameters. */
  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** Finalizes the connection. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.close((err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }
}

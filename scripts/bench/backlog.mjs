// Pre-fills a store's outbox: the backlog an MQTT outage leaves behind.

import { randomUUID } from 'node:crypto';

const { SqliteDb } = await import('../../dist/store/sqlite.js');
const { SqliteStore } = await import('../../dist/store/sqlite-store.js');
const { silentLogger } = await import('../../dist/log.js');

/**
 * Creates the store at `path` if needed (schema as the daemon makes it), then writes `count`
 * undelivered admit events in one transaction, an hour old, for `site`/`gate`.
 */
export async function fillBacklog(path, count, { site = 'bench', gate = 'g1' } = {}) {
  const store = new SqliteStore(path, silentLogger());
  await store.open();
  await store.close();
  const db = await SqliteDb.open(path);
  await db.exec('BEGIN');
  const row = await db.get("SELECT value FROM settings WHERE key = 'events.last_seq'");
  let seq = Number(row.value);
  const oldTs = Date.now() - 3_600_000;
  for (let i = 0; i < count; i++) {
    seq += 1;
    const event = {
      id: randomUUID(),
      seq,
      ts: oldTs + i,
      clock: 'synced',
      site,
      gate,
      type: 'admit',
      iss: 'demo-eats',
      sub: `rider-${seq % 977}`,
      cti: seq.toString(16).padStart(16, '0'),
      decisionUs: 300,
    };
    await db.run(
      'INSERT INTO events (id, seq, ts, type, iss, sub, cti, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [event.id, seq, event.ts, event.type, event.iss, event.sub, event.cti, JSON.stringify(event)],
    );
  }
  await db.run("UPDATE settings SET value = ? WHERE key = 'events.last_seq'", [String(seq)]);
  await db.exec('COMMIT');
  await db.close();
}

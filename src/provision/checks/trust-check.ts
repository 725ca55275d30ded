import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { SqliteDb } from '../../store/sqlite.js';
import { readPublicKey, readPublicOnlyKey } from '../../token/keys.js';
import { verifyTrustList } from '../../trust/signed-trust-list.js';
import { TRUST_SETTING } from '../../trust/trust-keeper.js';
import { readTrustFile } from '../../trust/trust-list.js';
import type { CheckInput, CheckResult } from '../check.js';
import { failed } from '../check.js';

const CHECK = 'trust list';

/** A key whose notAfter is closer than this gives a warning, seconds (30 days). */
export const KEY_EXPIRY_WARN_SEC = 30 * 86_400;
/** A list whose issuedAt is older than this gives a warning, seconds (90 days). */
export const TRUST_AGE_WARN_SEC = 90 * 86_400;

/**
 * The trust list file verifies with the fleet root key (trust.rootKeyFile), and its keys are
 * not all expired. Warns when a key expires within 30 days or the list is over 90 days old.
 */
export async function checkTrust({ config, env }: CheckInput): Promise<CheckResult> {
  let root: ReturnType<typeof readPublicKey>;
  try {
    root = readPublicKey(config.trust.rootKeyFile);
  } catch (err) {
    return failed(
      CHECK,
      err,
      'copy the fleet root public key there (ridergate provision --root-key)',
    );
  }
  // The gate runs with a private root key in that file (it needs only the public half), but
  // whoever can read the file can sign trust lists for the whole fleet.
  try {
    readPublicOnlyKey(config.trust.rootKeyFile);
  } catch (err) {
    return failed(
      CHECK,
      err,
      'replace the file with the public key (root.pub.json), and have operations rotate the fleet root key',
    );
  }
  let list: Awaited<ReturnType<typeof verifyTrustList>>;
  try {
    list = await verifyTrustList(readTrustFile(config.trust.file), root.key, config.trust.file);
  } catch (err) {
    return failed(
      CHECK,
      err,
      'install a trust list signed by the fleet root key (ridergate trust sign)',
    );
  }
  // A newer list the gate received over MQTT is the one in force: judge that one.
  const stored = await storedList(config.store.path, root.key);
  let source = '';
  if (stored !== undefined && stored.version > list.version) {
    source = ` in force (received by the gate, newer than the file's version ${list.version})`;
    list = stored;
  }
  const nowSec = Math.floor(env.nowMs() / 1000);
  const head = `version ${list.version}${source}, ${list.keys.length} key(s) of ${list.issuers.length} issuer(s)`;
  const live = list.keys.filter((k) => k.notAfterSec === undefined || k.notAfterSec > nowSec);
  if (live.length === 0) {
    return {
      check: CHECK,
      status: 'fail',
      detail: `${head}; every key has expired, so every token is refused`,
      fix: 'install the current trust list from operations',
    };
  }
  const warnings = [...expiringKeys(list.keys, nowSec), ...ageWarning(list.jws, nowSec)];
  if (warnings.length === 0) return { check: CHECK, status: 'ok', detail: head };
  return {
    check: CHECK,
    status: 'warn',
    detail: `${head}; ${warnings.join('; ')}`,
    fix: 'ask operations for a newer trust list; the gate also takes one over MQTT',
  };
}

function expiringKeys(keys: { iss: string; kid: string; notAfterSec?: number }[], nowSec: number) {
  return keys
    .filter((k) => k.notAfterSec !== undefined && k.notAfterSec - nowSec < KEY_EXPIRY_WARN_SEC)
    .map((k) => {
      const when = new Date((k.notAfterSec ?? 0) * 1000).toISOString().slice(0, 10);
      return k.notAfterSec !== undefined && k.notAfterSec <= nowSec
        ? `key ${k.iss}/${k.kid} expired ${when}`
        : `key ${k.iss}/${k.kid} expires ${when}`;
    });
}

function ageWarning(jws: string, nowSec: number): string[] {
  let issuedAt: unknown;
  try {
    issuedAt = decodeJwt(jws).issuedAt;
  } catch {
    return [];
  }
  const sec =
    typeof issuedAt === 'number'
      ? issuedAt
      : typeof issuedAt === 'string'
        ? Date.parse(issuedAt) / 1000
        : Number.NaN;
  if (!Number.isFinite(sec) || nowSec - sec < TRUST_AGE_WARN_SEC) return [];
  return [`issued ${Math.floor((nowSec - sec) / 86_400)} days ago`];
}

/**
 * The trust list the gate keeps in its store (the newest it verified, from the file or over
 * MQTT), read-only so a running gate is not disturbed; undefined when there is none or it
 * cannot be read or verified (the database check reports a bad store).
 */
async function storedList(
  storePath: string,
  rootKey: KeyObject,
): Promise<Awaited<ReturnType<typeof verifyTrustList>> | undefined> {
  if (!existsSync(storePath)) return undefined;
  let db: SqliteDb | undefined;
  try {
    db = await SqliteDb.open(storePath, true);
    const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [
      TRUST_SETTING,
    ]);
    return row === undefined
      ? undefined
      : await verifyTrustList(row.value, rootKey, 'stored trust list');
  } catch {
    return undefined;
  } finally {
    await db?.close().catch(() => undefined);
  }
}

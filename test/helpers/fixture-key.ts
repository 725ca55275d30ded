import { chmodSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type LoadedKey, readPrivateKey } from '../../src/token/keys.js';

/**
 * Reads a checked-in TEST private key (test/fixtures/token, test/vectors/keys). git keeps no
 * 0600 mode, so a fresh checkout has these files 0644 and readPrivateKey rightly refuses them;
 * the key is read through a private copy with mode 0600 instead.
 */
export function readFixturePrivateKey(path: string): LoadedKey {
  const copy = join(mkdtempSync(join(tmpdir(), 'ridergate-fixture-key-')), basename(path));
  copyFileSync(path, copy);
  // copyFileSync keeps the source's mode; the copy must be owner-only.
  chmodSync(copy, 0o600);
  return readPrivateKey(copy);
}

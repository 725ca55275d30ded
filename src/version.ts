import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed ridergate version, from package.json. */
export const VERSION: string = (() => {
  try {
    const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
    const pkg: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const version = (pkg as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

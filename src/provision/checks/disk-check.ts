import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheckInput, CheckResult } from '../check.js';

const CHECK = 'disk space';

/** Below this much free space the store check fails, bytes. */
export const DISK_FAIL_BYTES = 64 * 1024 * 1024;
/** Below this much free space a warning is given, bytes. */
export const DISK_WARN_BYTES = 512 * 1024 * 1024;

/** Free space on the filesystem that holds the store (store.path), for the journal to grow. */
export function checkDisk({ config }: CheckInput): CheckResult {
  const folder = existingAncestor(dirname(config.store.path));
  let freeBytes: number;
  try {
    const fs = statfsSync(folder);
    freeBytes = fs.bavail * fs.bsize;
  } catch (err) {
    return {
      check: CHECK,
      status: 'fail',
      detail: `cannot read the free space of ${folder}: ${(err as Error).message}`,
      fix: 'check store.path',
    };
  }
  const detail = `${formatMiB(freeBytes)} free in ${folder}`;
  const fix =
    'free space on the SD card (journalctl --vacuum-size=50M, apt clean) or lower store.retentionDays';
  if (freeBytes < DISK_FAIL_BYTES) return { check: CHECK, status: 'fail', detail, fix };
  if (freeBytes < DISK_WARN_BYTES) return { check: CHECK, status: 'warn', detail, fix };
  return { check: CHECK, status: 'ok', detail };
}

function existingAncestor(folder: string): string {
  let current = folder;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

function formatMiB(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MiB`;
}

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger, type LogFormat, type Logger, wantsPretty } from '../../src/log.js';
import { generateKeyPair } from '../../src/token/keys.js';
import { waitUntil } from '../helpers/pty.js';

const dir = mkdtempSync(join(tmpdir(), 'ridergate-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;

/** Logs through a real root logger into a file, as the daemon logs to stdout, and reads it. */
async function logged(format: LogFormat, write: (log: Logger) => void): Promise<string> {
  const path = join(dir, `log-${files++}.txt`);
  const fd = openSync(path, 'w');
  const log = createLogger('debug', fd, format);
  write(log);
  // The JSON destination writes asynchronously: wait for a last line to reach the file.
  log.info('end of test');
  await waitUntil(() => readFileSync(path, 'utf8').includes('end of test'), 'log written');
  closeSync(fd);
  return readFileSync(path, 'utf8').replace(/.*end of test.*\n/, '');
}

const TOKEN = 'HC1:6BFOXN%TSMAHN-HWWK2RL99TEZ';
const PASSWORD = 'hunter2-broker-secret';

function secrets() {
  const jwk = generateKeyPair('EdDSA').privateKey.export({ format: 'jwk' }) as { d: string };
  return { jwk, d: jwk.d };
}

describe('log redaction', () => {
  it('never writes token text, a private JWK, a password or a key, however deep', async () => {
    const { jwk, d } = secrets();
    for (const format of ['json', 'pretty'] as const) {
      const output = await logged(format, (log) => {
        log.info({ text: TOKEN, cti: 'c-1' }, 'scan decided');
        log.child({ component: 'scanner' }).debug({ scan: { text: TOKEN } }, 'frame');
        log.warn({ mqtt: { username: 'gate', password: PASSWORD } }, 'link options');
        log.info({ trust: { issuers: [{ keys: [{ kid: 'k1', jwk }] }] } }, 'trust list');
        log.error({ err: { context: { token: TOKEN, privateKey: d } } }, 'nested error');
        log.info({ request: { body: { secret: PASSWORD, passphrase: PASSWORD } } }, 'deep');
      });
      expect(output, format).not.toContain(TOKEN);
      expect(output, format).not.toContain(d);
      expect(output, format).not.toContain(PASSWORD);
      expect(output, format).toContain('[redacted]');
      expect(output, format).toContain('c-1'); // the token id stays: that is what to log
      expect(output, format).toContain('k1');
    }
  });
});

describe('log format', () => {
  it('writes one JSON object a line by default and for auto when not on a terminal', async () => {
    for (const format of ['json', 'auto'] as const) {
      const output = await logged(format, (log) => log.info({ decision: 'admit' }, 'scan decided'));
      const lines = output.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] ?? '')).toMatchObject({
        level: 30,
        app: 'ridergate',
        decision: 'admit',
        msg: 'scan decided',
      });
    }
  });

  it('writes readable lines for pretty', async () => {
    const output = await logged('pretty', (log) => log.info({ decision: 'admit' }, 'scan decided'));
    expect(() => JSON.parse(output)).toThrow();
    expect(output).toMatch(/INFO.*scan decided/);
    expect(output).toContain('decision: "admit"');
  });

  it('auto is pretty on a terminal', () => {
    const fd = openSync('/dev/ptmx', 'r+'); // a pseudo-terminal: isatty() is true
    try {
      expect(wantsPretty('auto', fd)).toBe(true);
      expect(wantsPretty('json', fd)).toBe(false);
    } finally {
      closeSync(fd);
    }
  });

  it('is set by log.format in the configuration, auto by default, and checked', () => {
    const path = join(dir, 'pretty.yaml');
    writeFileSync(path, 'gate: { site: depot-7, id: north }\n');
    expect(loadConfig(path, {}).config.log.format).toBe('auto');
    const gate = 'gate: { site: depot-7, id: north }\n';
    writeFileSync(path, `${gate}log:\n  format: pretty\n`);
    expect(loadConfig(path, {}).config.log.format).toBe('pretty');
    writeFileSync(path, `${gate}log:\n  format: colour\n`);
    expect(() => loadConfig(path, {})).toThrow(/log\.format|log\/format/);
  });
});

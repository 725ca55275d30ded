import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const example = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'config',
  'example.yaml',
);

describe('config/example.yaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridergate-example-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validates with the real loader once its files are put in a folder of their own', () => {
    const text = readFileSync(example, 'utf8')
      .replaceAll('/etc/ridergate/', `${dir}/`)
      .replaceAll('/var/lib/ridergate/', `${dir}/`);
    const file = join(dir, 'config.yaml');
    writeFileSync(file, text);
    const { config } = loadConfig(file, {});
    expect(config.gate).toMatchObject({ site: 'north-park', id: 'gate-2' });
    expect(config.scanner).toMatchObject({ driver: 'serial', profile: 'generic-cdc-cr' });
    expect(config.relay).toMatchObject({
      profile: 'relay-1ch-active-low',
      pin: 17,
      activeLow: true,
    });
    expect(config.mqtt).toMatchObject({
      url: 'mqtts://broker.fleet.example:8883',
      passwordFile: join(dir, 'mqtt-password'),
      caFile: join(dir, 'mqtt-ca.pem'),
    });
    expect(config.trust).toEqual({
      rootKeyFile: join(dir, 'root.pub.json'),
      file: join(dir, 'trust.jws'),
    });
  });

  it('explains each setting it sets with a comment', () => {
    const lines = readFileSync(example, 'utf8').split('\n');
    const settings = lines.filter((l) => /^\s+[a-zA-Z]+: \S/.test(l));
    const bare = settings.filter((l) => !l.includes('#'));
    // A path preceded by its own comment lines is explained too.
    expect(bare.filter((l) => !/^\s+(path|profile): /.test(l))).toEqual([]);
  });
});

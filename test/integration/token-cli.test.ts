import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cliPath } from '../helpers/daemon.js';

function ridergate(args: string[]) {
  const result = spawnSync(process.execPath, [cliPath(), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A fixed verification time, and a token issued a minute before it. */
const AT = 1_772_366_400;
const IAT = String(AT - 60);

describe('ridergate token verify', () => {
  let dir: string;
  let pub: string;
  let trust: string;
  let text: string;
  let png: string;
  let issued: ReturnType<typeof ridergate>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ridergate-token-cli-'));
    expect(ridergate(['keys', 'gen', '--name', 'eats', '--out', dir]).code).toBe(0);
    pub = join(dir, 'eats.pub.json');
    const jwk = JSON.parse(readFileSync(pub, 'utf8')) as { kid: string };
    trust = join(dir, 'trust.yaml');
    writeFileSync(
      trust,
      stringify({
        version: 1,
        issuers: [
          { iss: 'demo-eats', sites: ['north-hub'], keys: [{ kid: jwk.kid, alg: 'EdDSA', jwk }] },
        ],
      }),
    );
    png = join(dir, 'token.png');
    issued = ridergate([
      'token',
      'issue',
      '--key',
      join(dir, 'eats.key.json'),
      '--iss',
      'demo-eats',
      '--sub',
      'rider-8f3a',
      '--sites',
      'north-hub',
      '--iat',
      IAT,
      '--qr',
      png,
    ]);
    text = issued.stdout.trim();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const verify = (...args: string[]) => ridergate(['token', 'verify', ...args]);

  it('issue --qr writes the PNG and prints its QR version and error-correction level', () => {
    expect(issued.code).toBe(0);
    expect(text).toMatch(/^RP1:[0-9A-Z $%*+\-./:]+$/);
    expect(issued.stderr).toMatch(
      /QR version [1-8]-M written to .*token\.png \(version [1-8], error correction level M, \d+×\d+ modules/,
    );
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });

  it('explains every check in a table and exits 0 for a pass', () => {
    const out = verify(text, '--trust', trust, '--site', 'north-hub', '--at', String(AT));
    expect(out.code).toBe(0);
    for (const check of [
      'prefix',
      'base45',
      'cose_sign1',
      'claims',
      'key',
      'signature',
      'times',
      'lifetime',
      'site',
    ]) {
      expect(out.stdout).toMatch(new RegExp(`^${check} +pass +\\S`, 'm'));
    }
    expect(out.stdout).toContain('times       pass     iat 60 s ago, exp in 60 s');
    expect(out.stdout).toContain('pass: every check passed');
    expect(out.stdout).not.toContain(text.slice(4, 30));
  });

  it('--json prints {ok, reason, claims} and exits 0 for a pass, 1 for a deny', () => {
    const ok = verify(text, '--trust', trust, '--site', 'north-hub', '--at', String(AT), '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({
      ok: true,
      reason: null,
      claims: expect.objectContaining({
        iss: 'demo-eats',
        sub: 'rider-8f3a',
        sites: ['north-hub'],
      }),
    });
    const late = verify(
      text,
      '--trust',
      trust,
      '--site',
      'north-hub',
      '--at',
      String(AT + 3600),
      '--json',
    );
    expect(late.code).toBe(1);
    expect(JSON.parse(late.stdout)).toMatchObject({
      ok: false,
      reason: 'expired',
      claims: { iss: 'demo-eats' },
    });
  });

  it('shows a deny in the table: the failing check, then the skipped ones', () => {
    const out = verify(text, '--trust', trust, '--site', 'south', '--at', String(AT));
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^site +fail +wrong_site: /m);
    expect(out.stdout).toContain('deny: wrong_site');
  });

  it('reads the token from the QR image written by token issue --qr', () => {
    const out = verify('--image', png, '--jwk', pub, '--at', String(AT), '--json');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ ok: true, claims: { sub: 'rider-8f3a' } });
  });

  it('--jwk trusts one key for the token iss, with a 300 s maximum lifetime unless told', () => {
    expect(verify(text, '--jwk', pub, '--at', String(AT)).stdout).toMatch(
      /^site +skipped +no site given/m,
    );
    const strict = verify(text, '--jwk', pub, '--at', String(AT), '--max-lifetime', '60', '--json');
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout)).toMatchObject({ reason: 'lifetime_too_long' });
  });

  it('--cose-hex checks the COSE WG Ed25519 example and explains its headers', () => {
    const vector = JSON.parse(
      readFileSync('/work/shared/vectors/cose-wg/eddsa-examples_eddsa-sig-01.json', 'utf8'),
    ) as { input: { sign0: { key: { x_hex: string } } }; output: { cbor: string } };
    const jwk = join(dir, 'cose-wg.pub.json');
    const x = Buffer.from(vector.input.sign0.key.x_hex, 'hex').toString('base64url');
    writeFileSync(jwk, JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x, kid: '11', alg: 'EdDSA' }));

    const out = verify('--cose-hex', vector.output.cbor, '--jwk', jwk);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^cose_sign1 +pass +tagged \(18\), alg EdDSA, kid "11"/m);
    expect(out.stdout).toContain('kid from the unprotected header');
    expect(out.stdout).toContain('3 (content type)');
    expect(out.stdout).toMatch(/^signature +pass/m);
    expect(out.stdout).toMatch(/^claims +skipped +payload .*not RP1 claims/m);

    const hex = vector.output.cbor;
    const changed = `${hex.slice(0, -2)}${(Number.parseInt(hex.slice(-2), 16) ^ 1).toString(16).padStart(2, '0')}`;
    const bad = verify('--cose-hex', changed, '--jwk', jwk, '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ ok: false, reason: 'bad_signature', claims: null });
  });

  it.each([
    ['no token', [], 'give the token as TEXT, --image FILE.png or --cose-hex HEX'],
    ['no key', ['RP1:X'], 'give --trust FILE (a trust list) or --jwk FILE'],
    ['both keys', ['RP1:X', '--trust', 'a', '--jwk', 'b'], '--trust and --jwk: give one'],
    ['a bad --at', ['RP1:X', '--jwk', 'b', '--at', 'noon'], '--at "noon": expected whole seconds'],
    [
      'a missing image',
      ['--image', '/nonexistent.png', '--jwk', 'b'],
      '--image /nonexistent.png: cannot read the file (ENOENT)',
    ],
    [
      'bad hex',
      ['--cose-hex', 'xyz', '--jwk', 'b'],
      '--cose-hex: expected an even number of hex digits',
    ],
    [
      '--cose-hex with --trust',
      ['--cose-hex', 'd2', '--trust', 'a'],
      '--cose-hex needs --jwk FILE',
    ],
    [
      'a missing key file',
      ['RP1:X', '--jwk', '/nonexistent.json'],
      '--jwk: /nonexistent.json: cannot read the key file',
    ],
  ])('exits 2 with one clear line for %s', (_name, args, message) => {
    const out = verify(...args);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for an image without a QR code and for a file that is not a PNG', () => {
    const notPng = join(dir, 'not.png');
    writeFileSync(notPng, 'hello');
    const out = verify('--image', notPng, '--jwk', pub);
    expect(out).toMatchObject({ code: 2, stderr: expect.stringContaining('not a PNG image') });
    const blank = join(dir, 'blank.png');
    writeFileSync(blank, whitePng());
    expect(verify('--image', blank, '--jwk', pub)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('no QR code found in the image'),
    });
  });
});

/** A blank white 32×32 PNG: a valid image with no QR code in it. */
function whitePng(): Buffer {
  const image = new PNG({ width: 32, height: 32 });
  image.data.fill(0xff);
  return PNG.sync.write(image);
}

import type { Command } from 'commander';
import { COMMAND_NAMES, type CommandName } from '../command/command-types.js';
import { argsError } from '../command/parse-command.js';
import { signCommand } from '../command/sign-command.js';
import { RidergateError } from '../errors.js';
import { parseIdFlag, publishUrl, readKeyFlag } from './ops-flags.js';
import { PASSWORD_FILE_HELP } from './ops-password.js';
import { connectBroker, publishAndCollect } from './ops-publish.js';
import { parsePrefix } from './watch-command.js';
import { parseWholeFlag } from './whole-number.js';

interface SignOptions {
  key: string;
  cmd: string;
  site: string;
  gate?: string;
  args?: string;
  ttl: string;
  publish?: boolean;
  url?: string;
  prefix: string;
  username?: string;
  passwordFile?: string;
  wait: string;
}

/** `ridergate cmd sign`: a signed command, printed or published with its results awaited. */
export function registerCmdCommands(program: Command): void {
  const cmd = program.command('cmd').description('signed commands to gates (operations key)');
  cmd
    .command('sign')
    .description('sign a command as a compact JWS; print it, or --publish it and print the results')
    .requiredOption('--key <file>', 'operations private key (JWK, mode 0600)')
    .requiredOption('--cmd <name>', COMMAND_NAMES.join(' | '))
    .requiredOption('--site <site>', 'target site')
    .option('--gate <gate>', 'target gate (default: every gate of the site)')
    .option('--args <json>', 'arguments as JSON, e.g. \'{"on":true}\'')
    .option('--ttl <sec>', 'lifetime in seconds (1-3600)', '60')
    .option('--publish', 'publish it and wait for the results on cmd/result')
    .option('--url <url>', 'broker URL, with --publish only, e.g. mqtt://broker:1883')
    .option('--prefix <prefix>', 'topic prefix', 'ridergate/v1')
    .option('--username <name>', 'broker user')
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--wait <sec>', 'seconds to wait for results', '10')
    .action(async (opts: SignOptions) => {
      // Every flag is checked before the key is read and anything is signed or sent.
      const name = parseName(opts.cmd);
      const site = parseIdFlag('--site', opts.site, 'site');
      const gate = opts.gate === undefined ? undefined : parseIdFlag('--gate', opts.gate, 'gate');
      const ttlSec = parseWholeFlag('--ttl', opts.ttl, 1, 3600, 'seconds');
      const waitSec = parseWholeFlag('--wait', opts.wait, 1, 600, 'seconds');
      const prefix = parsePrefix(opts.prefix);
      const url = publishUrl(opts);
      const args = parseArgs(opts.args);
      const problem = argsError(name, args);
      // The gate would refuse it `malformed`: say so before signing.
      if (problem !== undefined) throw new RidergateError('usage', `--args: ${problem}`);
      const key = readKeyFlag('--key', opts.key, 'private');
      const { jws, jti } = await signCommand({ cmd: name, site, gate, args, ttlSec }, key);
      if (url === undefined) {
        process.stdout.write(`${jws}\n`);
        return;
      }
      const base = `${prefix}/${site}`;
      const client = await connectBroker({ ...opts, url, waitSec });
      try {
        const results = await publishAndCollect(
          client,
          {
            topic: `${base}/${gate ?? '_site'}/cmd`,
            resultTopic: `${base}/${gate ?? '+'}/cmd/result`,
            payload: jws,
            id: jti,
            waitSec,
          },
          // A gate command has one answer; a site-wide one, one per gate until the wait ends.
          (results) => gate !== undefined && results.length > 0,
        );
        if (results.length === 0) {
          throw new RidergateError(
            'link_failed',
            `no result for command ${jti} within ${waitSec} s`,
          );
        }
        if (results.some((r) => r.ok !== true)) process.exitCode = 1;
      } finally {
        await client.endAsync();
      }
    });
}

function parseName(value: string): CommandName {
  const name = COMMAND_NAMES.find((n) => n === value);
  if (name === undefined) {
    throw new RidergateError(
      'usage',
      `--cmd ${JSON.stringify(value)}: expected one of ${COMMAND_NAMES.join(', ')}`,
    );
  }
  return name;
}

function parseArgs(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RidergateError('usage', '--args: not valid JSON; e.g. --args \'{"on":true}\'');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RidergateError('usage', '--args: expected a JSON object');
  }
  return value as Record<string, unknown>;
}

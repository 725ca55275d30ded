import { type Command, Option } from 'commander';
import { RidergateError } from '../errors.js';
import { redactUrl } from '../link/client-options.js';
import { startOpsServer } from '../ops-web/server.js';
import { parsePrefix, untilSignal } from './watch-command.js';
import { parseWholeFlag } from './whole-number.js';

interface OpsFlags {
  port: string;
  host: string;
  brokerWs: string;
  prefix: string;
  maxGates: string;
  username?: string;
  passwordFile?: string;
}

/** Longest `--username`, characters: far above any real name, far below MQTT's 65,535 bytes. */
const MAX_USERNAME_CHARS = 256;

export function registerOpsCommand(program: Command): void {
  program
    .command('ops')
    .description(
      'serve the operations web page: the fleet live over MQTT-over-WebSocket (tiles, events, hourly counts)',
    )
    .requiredOption('--port <n>', 'HTTP port to serve the page on (0: any free port)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .requiredOption(
      '--broker-ws <url>',
      "the broker's WebSocket listener as the browser reaches it, e.g. ws://broker:9001",
    )
    .option('--prefix <prefix>', 'topic prefix', 'ridergate/v1')
    .option('--max-gates <n>', 'most gates the page tracks', '2000')
    .option(
      '--username <name>',
      "broker user name to pre-fill in the page's login form (the password is typed in the browser)",
    )
    // Taken only to refuse it with the reason: the other operations tools take it.
    .addOption(new Option('--password-file <file>').hideHelp())
    .action(async (flags: OpsFlags) => {
      if (flags.passwordFile !== undefined)
        throw new RidergateError(
          'usage',
          '--password-file: ops holds no broker password: the page asks for it in the browser and sends it to the broker itself',
        );
      const config = {
        brokerWs: parseBrokerWs(flags.brokerWs),
        prefix: parsePrefix(flags.prefix),
        maxGates: parseWholeFlag('--max-gates', flags.maxGates, 1, 100_000),
        ...(flags.username === undefined ? {} : { username: parseUsername(flags.username) }),
      };
      const port = parseWholeFlag('--port', flags.port, 0, 65_535);
      const { server, url } = await startOpsServer(config, flags.host, port);
      process.stdout.write(`ops page on ${url} (broker ${config.brokerWs})\n`);
      await untilSignal();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
}

function parseBrokerWs(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RidergateError(
      'usage',
      `--broker-ws ${redactUrl(value)}: not a URL; expected ws://host:port`,
    );
  }
  if ((url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.hostname === '')
    throw new RidergateError(
      'usage',
      `--broker-ws ${redactUrl(value)}: expected ws://host:port or wss://…`,
    );
  if (url.username !== '' || url.password !== '')
    throw new RidergateError(
      'usage',
      '--broker-ws: put no credentials in the URL: the page is public',
    );
  return value;
}

/** `--username`: shown in the page's form, so one printable line of bounded length. */
function parseUsername(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
  if (value === '' || value.length > MAX_USERNAME_CHARS || /[\u0000-\u001f\u007f]/.test(value))
    throw new RidergateError(
      'usage',
      `--username: expected 1 to ${MAX_USERNAME_CHARS} printable characters`,
    );
  return value;
}

import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RidergateError } from '../errors.js';

/**
 * What the ops page is told: where the broker's WebSocket listener is, the prefix, and the
 * user name to pre-fill in its login form. Never a password: anyone who reaches the HTTP port
 * reads this (`/config.json`); the operator types the password in the page, which sends it
 * to the broker only.
 */
export interface OpsPageConfig {
  brokerWs: string;
  prefix: string;
  maxGates: number;
  username?: string;
}

/** One file the server answers with, read once at start. */
interface Asset {
  type: string;
  body: Buffer;
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** The page's own files: `ops-web/` at the package root (next to `config/`), src or dist. */
export function pageFolder(): string {
  return join(HERE, '..', '..', 'ops-web');
}

/**
 * The files served, by URL path: the page, the fleet model compiled next to this file (the
 * same code `watch` runs), and the mqtt.js browser bundle. A fixed table: no path from a
 * request ever reaches the filesystem.
 */
export function loadAssets(config: OpsPageConfig): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const js = 'text/javascript; charset=utf-8';
  const page = pageFolder();
  assets.set('/', {
    type: 'text/html; charset=utf-8',
    body: readFileSync(join(page, 'index.html')),
  });
  assets.set('/style.css', {
    type: 'text/css; charset=utf-8',
    body: readFileSync(join(page, 'style.css')),
  });
  for (const name of ['app.js', 'broker-session.js', 'chart.js', 'dom.js', 'login.js'])
    assets.set(`/${name}`, { type: js, body: readFileSync(join(page, name)) });
  const fleet = join(HERE, '..', 'fleet');
  for (const name of readdirSync(fleet).filter((n) => n.endsWith('.js')))
    assets.set(`/fleet/${name}`, { type: js, body: readFileSync(join(fleet, name)) });
  assets.set('/vendor/mqtt.esm.js', { type: js, body: readFileSync(mqttBrowserBundle()) });
  assets.set('/config.json', {
    type: 'application/json',
    body: Buffer.from(JSON.stringify(config)),
  });
  return assets;
}

/** node_modules/mqtt/dist/mqtt.esm.js, found from the package the link itself imports. */
function mqttBrowserBundle(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('mqtt');
  // main is …/node_modules/mqtt/build/index.js; the browser bundles sit in …/mqtt/dist/.
  return join(dirname(main), '..', 'dist', 'mqtt.esm.js');
}

/**
 * Content-Security-Policy of the page: its own scripts and styles only, and WebSocket
 * connections only to the broker it was started with. No external network at all.
 * `worker-src blob:`: mqtt.js runs its keepalive timers in a worker it makes from a blob
 * (so that a background tab's throttled timers do not drop the connection).
 */
export function contentSecurityPolicy(brokerWs: string): string {
  const origin = new URL(brokerWs).origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    'worker-src blob:',
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${origin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Starts the ops page server on `host:port` (port 0 picks one).
 * @throws RidergateError `listen_failed` when the port is taken or the host cannot be bound.
 */
export async function startOpsServer(
  config: OpsPageConfig,
  host: string,
  port: number,
): Promise<{ server: Server; url: string }> {
  const assets = loadAssets(config);
  const csp = contentSecurityPolicy(config.brokerWs);
  const server = createServer((req, res) => answer(assets, csp, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { server, url: `http://${shownHost}:${bound}/` };
}

/** A run-time failure (exit 1), not bad usage: the same command works once the port is free. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): RidergateError {
  const why =
    err.code === 'EADDRINUSE'
      ? `port ${port} is already in use by another program; stop it or choose another --port (0: any free port)`
      : err.code === 'EACCES'
        ? `no permission to listen on port ${port} (ports below 1024 need privileges); choose a port above 1023`
        : err.code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this machine; check --host`
          : err.message;
  return new RidergateError('listen_failed', `ops page: cannot listen on ${host}:${port}: ${why}`, {
    cause: err,
  });
}

function answer(
  assets: Map<string, Asset>,
  csp: string,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res
      .writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' })
      .end('method not allowed\n');
    return;
  }
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const asset = assets.get(path === '/index.html' ? '/' : path);
  if (asset === undefined) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  res.writeHead(200, {
    'Content-Type': asset.type,
    'Content-Length': asset.body.length,
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

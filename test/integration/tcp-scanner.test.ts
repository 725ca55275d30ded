import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createScanner } from '../../src/scanner/index.js';
import { TcpScanner } from '../../src/scanner/tcp-scanner.js';
import type { Scan, Scanner } from '../../src/scanner/types.js';
import { waitUntil } from '../helpers/pty.js';

const T = 'RP1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

/** A network scanner (or serial-to-network bridge): a TCP server writing to its clients. */
class FakeNetworkScanner {
  port = 0;
  private server: Server | undefined;
  readonly clients = new Set<Socket>();

  async start(port = 0): Promise<void> {
    const server = createServer((socket) => {
      this.clients.add(socket);
      socket.on('close', () => this.clients.delete(socket));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.port = address.port;
    this.server = server;
  }

  send(bytes: string): void {
    for (const client of this.clients) client.write(Buffer.from(bytes, 'latin1'));
  }

  /** Closes the server and every connection: the scanner is switched off. */
  async stop(): Promise<void> {
    for (const client of this.clients) client.destroy();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('TcpScanner against a local TCP server', () => {
  let remote: FakeNetworkScanner;
  let scanner: Scanner | undefined;
  let scans: Scan[];
  let lines: Record<string, unknown>[];

  beforeEach(async () => {
    remote = new FakeNetworkScanner();
    await remote.start();
    scans = [];
  });

  afterEach(async () => {
    await scanner?.stop();
    scanner = undefined;
    await remote.stop();
  });

  async function startScanner(over: Record<string, unknown> = {}): Promise<void> {
    const captured = capturingLogger();
    lines = captured.lines;
    scanner = createScanner(
      {
        driver: 'tcp',
        path: '/dev/null',
        host: '127.0.0.1',
        port: remote.port,
        maxLength: 1024,
        dedupeMs: 0,
        reconnectMinMs: 50,
        reconnectMaxMs: 200,
        ...over,
      },
      captured.log,
    );
    await scanner.start((scan) => scans.push(scan));
  }

  it('connects and reads scans through the same framing, limits and profile', async () => {
    await startScanner({ profile: 'stx-etx-framed', maxLength: 64 });
    expect(scanner).toBeInstanceOf(TcpScanner);
    await waitUntil(() => remote.clients.size === 1, 'client connected');
    remote.send(`\x02${T.slice(0, 10)}`);
    remote.send(`${T.slice(10)}\x03\r\n`);
    remote.send(`\x02${'X'.repeat(100)}\x03`); // over maxLength: dropped
    remote.send('\x02A\x1dB\x03'); // a control byte inside: rejected
    remote.send('\x02T2\x03');
    await waitUntil(() => scans.length === 2, 'two scans');
    expect(scans.map((s) => s.text)).toEqual([T, 'T2']);
    expect(scans[0]?.source).toBe(`tcp://127.0.0.1:${remote.port}`);
    expect(scanner?.stats()).toMatchObject({ connected: true, overlong: 1, rejected: 1 });
    expect(lines.map((l) => l.msg)).toEqual([
      'scanner connected',
      'scanner line too long, dropped',
      'scanner line rejected',
    ]);
  });

  it('reconnects after the server restarts, one log line per state change, half line dropped', async () => {
    await startScanner();
    await waitUntil(() => remote.clients.size === 1, 'client connected');
    remote.send('RP1:HALF-CUT-BY-RESTART');
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the half line arrive
    const port = remote.port;
    await remote.stop();
    await waitUntil(() => scanner?.stats().connected === false, 'scanner disconnected');
    await new Promise((resolve) => setTimeout(resolve, 500)); // several refused retries

    await remote.start(port);
    await waitUntil(() => scanner?.stats().connected === true, 'scanner reconnected');
    await waitUntil(() => remote.clients.size === 1, 'client back');
    remote.send(`${T}\r`);
    await waitUntil(() => scans.length === 1, 'scan after restart');

    expect(scans.map((s) => s.text)).toEqual([T]);
    expect(scanner?.stats().reconnects).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual([
      'scanner connected',
      'scanner disconnected',
      'scanner not available, retrying',
      'scanner connected',
    ]);
    expect(lines[2]).toMatchObject({ reason: 'ECONNREFUSED' });
  });

  it('starts while the scanner is off and connects when it comes up', async () => {
    const port = remote.port;
    await remote.stop();
    await startScanner({ port });
    expect(scanner?.stats().connected).toBe(false);
    await remote.start(port);
    await waitUntil(() => scanner?.stats().connected === true, 'scanner connected');
    expect(lines.map((l) => l.msg)).toEqual([
      'scanner not available, retrying',
      'scanner connected',
    ]);
  });
});

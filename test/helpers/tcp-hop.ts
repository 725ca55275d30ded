import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP hop on a free loopback port between a client and a broker, standing in for a bad
 * network: it can cut every connection, refuse new ones, or cut any connection on which the
 * client sends a given text.
 */
export interface TcpHop {
  /** `mqtt://127.0.0.1:<port>` of the hop. */
  url: string;
  /** Destroys every relayed connection: the broker sees a socket close with no DISCONNECT. */
  cut(): void;
  /** While blocked, new connections are closed at once. */
  setBlocked(blocked: boolean): void;
  /** Cuts every connection on which the client sends `text` (e.g. an event id); undefined: none. */
  dropConnectionsCarrying(text: string | undefined): void;
  close(): Promise<void>;
}

/** Starts a hop to `targetPort` on 127.0.0.1. */
export async function startTcpHop(targetPort: number): Promise<TcpHop> {
  const sockets = new Set<Socket>();
  let blocked = false;
  let needle: string | undefined;
  const server: Server = createServer((inbound) => {
    if (blocked) {
      inbound.destroy();
      return;
    }
    const outbound = createConnection({ port: targetPort, host: '127.0.0.1' });
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', drop);
      socket.on('close', drop);
    }
    // The tail of the previous chunk, so a needle split across two chunks is still seen.
    let tail = '';
    inbound.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      tail = text.slice(-64);
      if (needle !== undefined && text.includes(needle)) drop();
      else outbound.write(chunk);
    });
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const cut = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut,
    setBlocked: (value) => {
      blocked = value;
    },
    dropConnectionsCarrying: (text) => {
      needle = text;
    },
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

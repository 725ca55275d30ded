import { createServer } from 'node:net';
import { Aedes } from 'aedes';

/** An in-process aedes broker on 127.0.0.1 at a free port. */
export interface AedesBroker {
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  port: number;
  broker: Aedes;
  /** Closes the listener, every client connection and the broker. */
  stop(): Promise<void>;
}

/** Starts an aedes broker (MQTT 3.1.1, in memory) listening on a port the OS picks. */
export async function startAedes(): Promise<AedesBroker> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    broker,
    stop: async () => {
      // broker.close() ends every client, so server.close() does not wait for their sockets.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

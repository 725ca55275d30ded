import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/cli/demo/embedded-broker.js';

/** An in-process aedes broker (MQTT 3.1.1, in memory) on 127.0.0.1 at a free port. */
export interface AedesBroker {
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Closes the listener, every client connection and the broker. */
  stop(): Promise<void>;
}

/** Starts the same embedded broker the demo uses. */
export async function startAedes(): Promise<AedesBroker> {
  const broker: EmbeddedBroker = await startEmbeddedBroker();
  return { url: broker.url, port: broker.port, stop: () => broker.close() };
}

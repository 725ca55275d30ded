/** Types for the `unix-dgram` npm package (CommonJS native addon, ships no types). */
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';

  /** An AF_UNIX SOCK_DGRAM socket; its callbacks and events fire synchronously. */
  export interface UnixDgramSocket extends EventEmitter {
    bind(path: string): void;
    send(
      buf: Buffer,
      offset: number,
      length: number,
      path: string,
      callback?: (err?: Error) => void,
    ): void;
    close(): void;
  }

  export function createSocket(
    type: 'unix_dgram',
    listener?: (msg: Buffer, rinfo: { size: number; path?: string }) => void,
  ): UnixDgramSocket;
}

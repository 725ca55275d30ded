/**
 * Default wait for the broker's retained copy after the SUBACK of a re-subscription, ms.
 * mosquitto writes the retained copy right behind the SUBACK; the margin is for a loaded or
 * slower broker.
 */
export const DEFAULT_RETAINED_WAIT_MS = 500;

interface Probe {
  topic: string;
  payload: Buffer;
  settle: (held: boolean | Error) => void;
}

/**
 * Open questions "does the broker hold this payload retained on this topic?" (field case M2).
 * MQTT 3.1.1 delivers a message published with retain to subscribers already connected
 * without the flag (§3.3.1.3), so a live command may still be retained. The link
 * re-subscribes (§3.8.4: the broker must then re-send the retained message) and hands every
 * message that arrives with the retain flag to {@link offer}: a retained copy answers the
 * probes open on its topic and is taken (it is the probe's echo, not a new command).
 */
export class RetainedProbes {
  private readonly open = new Set<Probe>();

  /**
   * Starts a probe; `settled` resolves true when a retained copy equal to `payload` arrives,
   * false when a different one arrives (a topic holds one retained message) or at `close`,
   * and rejects at {@link connectionLost}.
   */
  start(topic: string, payload: Buffer): { settled: Promise<boolean>; close: () => void } {
    let probe: Probe | undefined;
    const settled = new Promise<boolean>((resolve, reject) => {
      probe = {
        topic,
        payload,
        settle: (held) => {
          if (probe !== undefined) this.open.delete(probe);
          if (held instanceof Error) reject(held);
          else resolve(held);
        },
      };
    });
    const started = probe as unknown as Probe;
    this.open.add(started);
    return { settled, close: () => started.settle(false) };
  }

  /** A message delivered with the retain flag; true when an open probe took it. */
  offer(topic: string, payload: Buffer): boolean {
    let taken = false;
    for (const probe of [...this.open]) {
      if (probe.topic !== topic) continue;
      taken = true;
      probe.settle(payload.equals(probe.payload));
    }
    return taken;
  }

  /** The connection ended: every open probe fails (the answer can no longer come). */
  connectionLost(): void {
    for (const probe of [...this.open]) {
      probe.settle(new Error('the connection was lost before the broker answered'));
    }
  }

  /** Probes still waiting. */
  get size(): number {
    return this.open.size;
  }
}

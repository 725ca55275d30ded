import { describe, expect, it } from 'vitest';
import { RetainedProbes } from '../../../src/link/retained-probe.js';

const T = 'ridergate/v1/north/g1/cmd';

describe('RetainedProbes', () => {
  it('a retained copy equal to the command answers true and is taken; another topic is left alone', async () => {
    const probes = new RetainedProbes();
    const probe = probes.start(T, Buffer.from('cmd-a'));
    expect(probes.offer('ridergate/v1/north/_site/cmd', Buffer.from('cmd-a'))).toBe(false);
    expect(probes.offer(T, Buffer.from('cmd-a'))).toBe(true);
    await expect(probe.settled).resolves.toBe(true);
    expect(probes.size).toBe(0);
    // No probe open: a retained message goes to its handler as usual.
    expect(probes.offer(T, Buffer.from('cmd-a'))).toBe(false);
  });

  it('another retained message, or none before close, answers false', async () => {
    const probes = new RetainedProbes();
    const other = probes.start(T, Buffer.from('cmd-a'));
    expect(probes.offer(T, Buffer.from('cmd-old'))).toBe(true);
    await expect(other.settled).resolves.toBe(false);
    const none = probes.start(T, Buffer.from('cmd-b'));
    none.close();
    await expect(none.settled).resolves.toBe(false);
    expect(probes.size).toBe(0);
  });

  it('a lost connection fails every open probe', async () => {
    const probes = new RetainedProbes();
    const a = probes.start(T, Buffer.from('cmd-a'));
    const b = probes.start('ridergate/v1/north/_site/cmd', Buffer.from('cmd-b'));
    probes.connectionLost();
    await expect(a.settled).rejects.toThrow('connection was lost');
    await expect(b.settled).rejects.toThrow('connection was lost');
    expect(probes.size).toBe(0);
  });
});

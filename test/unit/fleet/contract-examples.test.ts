import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FleetState } from '../../../src/fleet/fleet-state.js';

const examples = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'schemas',
  'examples',
);
const valid = (name: string): Record<string, unknown>[] =>
  (
    JSON.parse(readFileSync(join(examples, `${name}.json`), 'utf8')) as {
      valid: Record<string, unknown>[];
    }
  ).valid;
const P = 'ridergate/v1';
const NOW = 1733230100000;

describe('the fleet view reads every valid example of the MQTT contract (schemas/examples)', () => {
  const cases: [string, string][] = [
    ['status', 'status'],
    ['events', 'event'],
    ['telemetry', 'telemetry'],
    ['info', 'info'],
    ['cmd/result', 'cmd-result'],
  ];
  for (const [topic, example] of cases) {
    it(`folds each ${example} example without rejecting it`, () => {
      const payloads = valid(example);
      expect(payloads.length).toBeGreaterThan(0);
      for (const payload of payloads) {
        const fleet = new FleetState({ prefix: P });
        const update = fleet.apply(`${P}/north/g1/${topic}`, JSON.stringify(payload), NOW);
        expect(update.kind, JSON.stringify(payload)).toBe('changed');
      }
    });
  }

  it('shows outbox depth and alarm conditions from the telemetry examples', () => {
    const [healthy, behind] = valid('telemetry');
    const fleet = new FleetState({ prefix: P });
    fleet.apply(`${P}/north/g1/telemetry`, JSON.stringify(healthy), NOW);
    expect(fleet.list()[0]?.outboxDepth).toBe(0);
    expect(fleet.list()[0]?.openAlarms(NOW)).toEqual([]);
    fleet.apply(`${P}/north/g1/telemetry`, JSON.stringify(behind), NOW);
    expect(fleet.list()[0]?.outboxDepth).toBe(17);
    expect(fleet.list()[0]?.openAlarms(NOW)).toEqual(['revocations_stale', 'revocations_gap']);
  });

  it('shows a degraded status with its reasons as alarms', () => {
    const degraded = valid('status').find((s) => s.state === 'degraded');
    const fleet = new FleetState({ prefix: P });
    fleet.apply(`${P}/north/g1/status`, JSON.stringify(degraded), NOW);
    expect(fleet.list()[0]?.openAlarms(NOW)).toEqual(['store_unavailable']);
  });
});

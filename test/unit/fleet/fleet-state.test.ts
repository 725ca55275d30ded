import { describe, expect, it } from 'vitest';
import { FleetState } from '../../../src/fleet/fleet-state.js';
import { MAX_REASONS } from '../../../src/fleet/hour-counts.js';
import { renderFleet } from '../../../src/fleet/terminal-view.js';
import { fleetFilters, parseFleetTopic } from '../../../src/fleet/topic.js';

const P = 'ridergate/v1';
const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const topic = (gate: string, kind: string) => `${P}/north/${gate}/${kind}`;
const json = (o: unknown) => JSON.stringify(o);
let n = 0;
const event = (type: string, ts: number, reason?: string) =>
  json({ id: `ev-${++n}`, seq: n, ts, clock: 'synced', site: 'north', gate: 'g1', type, reason });

describe('parseFleetTopic: which topics are gate topics', () => {
  it('splits a gate topic and refuses fleet, site-wide and command topics', () => {
    expect(parseFleetTopic(P, `${P}/north/g1/status`)).toEqual({
      site: 'north',
      gate: 'g1',
      kind: 'status',
    });
    expect(parseFleetTopic(P, `${P}/north/g1/cmd/result`)?.kind).toBe('result');
    expect(parseFleetTopic(P, `${P}/north/g1/cmd`)).toBeUndefined();
    expect(parseFleetTopic(P, `${P}/_fleet/trust`)).toBeUndefined();
    expect(parseFleetTopic(P, `${P}/north/_site/cmd`)).toBeUndefined();
    expect(parseFleetTopic(P, `other/north/g1/status`)).toBeUndefined();
    expect(fleetFilters(P)).toContain(`${P}/+/+/events`);
  });
});

describe('FleetState: folding gate messages into per-gate state', () => {
  it('shows a gate online with its session, then lost, and ignores a stale will', () => {
    const fleet = new FleetState({ prefix: P });
    const online = fleet.apply(
      topic('g1', 'status'),
      json({ state: 'online', ts: T0, session: 4 }),
      T0,
    );
    expect(online.kind === 'changed' && online.line).toBe('north/g1 status online session=4');
    const stale = fleet.apply(
      topic('g1', 'status'),
      json({ state: 'lost', ts: T0, session: 3 }),
      T0,
    );
    expect(stale.kind).toBe('stale');
    expect(fleet.list()[0]?.state).toBe('online');
    fleet.apply(topic('g1', 'status'), json({ state: 'lost', ts: T0, session: 4 }), T0 + 5);
    expect(fleet.list()[0]?.state).toBe('lost');
  });

  it('keeps the last event, de-duplicates by id and lists events newest first', () => {
    const fleet = new FleetState({ prefix: P });
    const first = event('admit', T0);
    fleet.apply(topic('g1', 'events'), first, T0);
    expect(fleet.apply(topic('g1', 'events'), first, T0).kind).toBe('duplicate');
    const deny = fleet.apply(topic('g1', 'events'), event('deny', T0 + 1000, 'expired'), T0 + 1000);
    expect(deny.kind === 'changed' && deny.line).toBe('north/g1 event deny reason=expired');
    expect(fleet.list()[0]?.lastEvent).toMatchObject({ type: 'deny', reason: 'expired' });
    expect(fleet.events().map((e) => e.type)).toEqual(['deny', 'admit']);
  });

  it('counts admits and denials by reason over the last hour only', () => {
    const fleet = new FleetState({ prefix: P });
    const now = T0 + 3_600_000;
    fleet.apply(topic('g1', 'events'), event('admit', T0 - 10), now); // older than an hour
    fleet.apply(topic('g1', 'events'), event('admit', now - 60_000), now);
    fleet.apply(topic('g1', 'events'), event('reopen', now - 50_000), now);
    fleet.apply(topic('g1', 'events'), event('deny', now - 1000, 'expired'), now);
    fleet.apply(topic('g1', 'events'), event('deny', now - 900, 'expired'), now);
    fleet.apply(topic('g1', 'events'), event('deny', now, 'revoked'), now);
    fleet.apply(topic('g1', 'events'), event('boot', now), now);
    const totals = fleet.list()[0]?.hour.totals(now);
    expect(totals).toEqual({ admits: 2, denials: { expired: 2, revoked: 1 } });
    expect(fleet.list()[0]?.hour.totals(now + 3_600_000)).toEqual({ admits: 0, denials: {} });
  });

  it('bounds deny reasons per gate: past the limit they count as other', () => {
    const fleet = new FleetState({ prefix: P });
    for (let i = 0; i < MAX_REASONS + 5; i++)
      fleet.apply(topic('g1', 'events'), event('deny', T0, `r${i}`), T0);
    const denials = fleet.list()[0]?.hour.totals(T0).denials ?? {};
    expect(Object.keys(denials)).toHaveLength(MAX_REASONS + 1);
    expect(denials.other).toBe(5);
  });

  it('reads the outbox depth and alarm flags from partial telemetry of either shape', () => {
    const fleet = new FleetState({ prefix: P });
    fleet.apply(topic('g1', 'telemetry'), json({ outbox: { depth: 7 } }), T0);
    expect(fleet.list()[0]?.outboxDepth).toBe(7);
    fleet.apply(
      topic('g1', 'telemetry'),
      json({ outboxDepth: 2, revocations: { stale: true } }),
      T0,
    );
    const g = fleet.list()[0];
    expect(g?.outboxDepth).toBe(2);
    expect(g?.openAlarms(T0)).toEqual(['revocations_stale']);
    const same = fleet.apply(
      topic('g1', 'telemetry'),
      json({ outboxDepth: 2, revocations: { stale: true } }),
      T0,
    );
    expect(same.kind).toBe('unchanged');
  });

  it('keeps alarm events open for an hour', () => {
    const fleet = new FleetState({ prefix: P });
    fleet.apply(topic('g1', 'events'), event('alarm', T0, 'forced_open'), T0);
    expect(fleet.list()[0]?.openAlarms(T0 + 1000)).toEqual(['forced_open']);
    expect(fleet.list()[0]?.openAlarms(T0 + 3_600_001)).toEqual([]);
  });

  it('rejects bad payloads with a reason and never throws', () => {
    const fleet = new FleetState({ prefix: P });
    const bad: [string, string | Uint8Array][] = [
      ['status', 'not json'],
      ['status', '[1,2]'],
      ['status', json({ state: 'sleeping', ts: T0 })],
      ['status', json({ state: 'online', ts: T0, session: 'x' })],
      ['events', json({ id: 'x', type: 'ADMIT', ts: T0 })],
      ['events', json({ type: 'admit', ts: T0 })],
      ['events', 'x'.repeat(20_000)],
      ['telemetry', new Uint8Array([0xff, 0xfe, 0x00])],
      ['cmd/result', json({ id: 'a' })],
    ];
    const errors = bad.map(([kind, payload]) => {
      const u = fleet.apply(topic('g1', kind), payload, T0);
      return u.kind === 'rejected' ? u.error : u.kind;
    });
    expect(errors).toEqual([
      'payload is not JSON',
      'payload is not a JSON object',
      'status.state is not one of online, degraded, offline, lost',
      'status.session is not a whole number',
      'event.type is not a word',
      'event.id is not a string of 1 to 64 characters',
      'payload of 20000 bytes is over the 16384 limit',
      'payload is not JSON',
      'result.ok is not a boolean',
    ]);
    expect(fleet.counts.rejected).toBe(9);
  });

  it('strips terminal escapes and control characters from broker text', () => {
    const fleet = new FleetState({ prefix: P });
    const evil = json({ id: 'e1', type: 'alarm', ts: T0, reason: '\u001b[2Jboom\u202e' });
    fleet.apply(topic('g1', 'events'), evil, T0);
    expect(fleet.list()[0]?.lastEvent?.reason).toBe('?[2Jboom?');
  });

  it('keeps at most maxGates gates and counts the messages of the others', () => {
    const fleet = new FleetState({ prefix: P, maxGates: 2 });
    for (const g of ['g1', 'g2', 'g3'])
      fleet.apply(topic(g, 'status'), json({ state: 'online', ts: T0, session: 1 }), T0);
    expect(fleet.list().map((g) => g.gate)).toEqual(['g1', 'g2']);
    expect(fleet.counts.dropped).toBe(1);
  });
});

describe('renderFleet: the terminal table', () => {
  it('shows state, last event with age, outbox, hour counts and alarms per gate', () => {
    const fleet = new FleetState({ prefix: P });
    fleet.apply(topic('g1', 'status'), json({ state: 'online', ts: T0, session: 2 }), T0);
    fleet.apply(topic('g1', 'events'), event('deny', T0, 'expired'), T0);
    fleet.apply(topic('g1', 'telemetry'), json({ outbox: { depth: 3 } }), T0);
    const lines = renderFleet(fleet, T0 + 90_000, 'header');
    expect(lines[1]).toBe('1 gates: 1 online, 0 degraded, 0 lost, 0 offline');
    expect(lines[4]).toMatch(/^north\/g1\s+online #2\s+deny expired\s+1m\s+3\s+0\/1\s+-$/);
  });
});

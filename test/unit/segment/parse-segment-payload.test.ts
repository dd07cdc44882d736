import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SegmentMessageError,
  parseSegmentPayload,
  type ParsedSegmentMessage,
} from '../../../src/sources/segment/index.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../fixtures/segment/${name}`, import.meta.url), 'utf8')) as unknown;
const iso = (at: number): string => new Date(at).toISOString();
const ms = (text: string): number => Date.parse(text);
const RECEIVED = ms('2025-03-16T12:00:00.000Z');

function single(raw: unknown, receivedAt = RECEIVED): ParsedSegmentMessage {
  const result = parseSegmentPayload(raw, { receivedAt });
  expect(result.errors).toEqual([]);
  expect(result.messages).toHaveLength(1);
  return result.messages[0]!;
}

describe('parseSegmentPayload: reference fixtures', () => {
  it('F1 identify via the HTTP API keeps the caller timestamp and the traits', () => {
    const message = single(fixture('f1-identify-http-api.json'));
    expect(message.type).toBe('identify');
    expect(message.entityKey).toBe('u_7f3a91');
    expect(message.anonymousId).toBe('a1d4c2e0-5b6f-4e8a-9c1d-2f7e8a9b0c3d');
    expect(message.messageId).toBe('node-next-1741946100000-0b6e2f4c-9a31-4d7e-8c55-1f2a3b4c5d6e');
    expect(iso(message.timestamp)).toBe('2025-03-14T09:55:00.000Z');
    expect(message.receivedAt).toBe(RECEIVED);
    expect(message.traits['plan']).toBe('Growth');
    expect(message.traits['company']).toEqual({
      id: 'acct_5521',
      name: 'Northwind Freight',
      industry: 'Logistics',
      employee_count: 240,
      plan: 'Growth',
    });
    expect(message.properties).toEqual({});
    expect(message.event).toBeNull();
    expect(message.context['timezone']).toBe('Europe/Berlin');
  });

  it('F2 as stored after ingest gives 09:27:38.500', () => {
    const message = single(fixture('f2-track-order-completed.json'));
    expect(iso(message.timestamp)).toBe('2025-03-14T09:27:38.500Z');
    expect(iso(message.receivedAt)).toBe('2025-03-14T09:27:40.500Z');
    expect(message.event).toBe('Order Completed');
    expect(message.properties['revenue']).toBe(60);
    expect(message.properties['total']).toBe(69.79);
  });

  it('F2 without its timestamp is skew-corrected: receivedAt − (sentAt − originalTimestamp)', () => {
    const { timestamp: _timestamp, ...withoutTimestamp } = fixture('f2-track-order-completed.json') as Record<
      string,
      unknown
    >;
    const message = single(withoutTimestamp);
    expect(iso(message.timestamp)).toBe('2025-03-14T09:27:38.500Z');
    expect(iso(message.originalTimestamp!)).toBe('2025-03-14T09:26:53.000Z');
    expect(iso(message.sentAt!)).toBe('2025-03-14T09:26:55.000Z');
  });

  it('F2 arriving at our Tracking API (no receivedAt, no timestamp) is corrected against our arrival time', () => {
    const {
      timestamp: _t,
      receivedAt: _r,
      ...sent
    } = fixture('f2-track-order-completed.json') as Record<string, unknown>;
    const message = single(sent, ms('2025-03-14T09:27:40.500Z'));
    expect(iso(message.timestamp)).toBe('2025-03-14T09:27:38.500Z');
  });

  it('F3 keeps a custom event name and context.groupId', () => {
    const message = single(fixture('f3-track-feature-used.json'));
    expect(message.event).toBe('Feature Used');
    expect(message.userId).toBe('u_7f3a91');
    expect(message.anonymousId).toBeNull();
    expect(iso(message.timestamp)).toBe('2025-03-14T11:00:00.000Z');
    expect(message.properties['duration_ms']).toBe(1840);
    expect(message.context['groupId']).toBe('acct_5521');
  });

  it('F4 batch: five messages, batch context merged into each, batch sentAt applied', () => {
    const result = parseSegmentPayload(fixture('f4-batch.json'), { receivedAt: ms('2025-03-15T08:00:02.300Z') });
    expect(result.errors).toEqual([]);
    expect(result.messages.map((m) => [m.type, m.messageId, m.entityKey, iso(m.timestamp), m.event])).toEqual([
      ['identify', 'm-001', 'b7e1f0a2-3c4d-4e5f-8a9b-0c1d2e3f4a5b', '2025-03-15T07:59:50.000Z', null],
      ['track', 'm-002', 'u_c2d810', '2025-03-15T07:59:51.000Z', 'Signed Up'],
      ['group', 'm-003', 'u_c2d810', '2025-03-15T07:59:52.000Z', null],
      ['page', 'm-004', 'u_c2d810', '2025-03-15T07:59:58.000Z', 'Pricing'],
      ['track', 'm-005', 'u_c2d810', '2025-03-15T08:00:01.000Z', 'Product Viewed'],
    ]);
    for (const message of result.messages) {
      expect(message.context['library']).toEqual({ name: '@segment/analytics-node', version: '2.2.0' });
      expect(iso(message.sentAt!)).toBe('2025-03-15T08:00:02.000Z');
      expect(message.raw['writeKey']).toBeUndefined();
    }
    const group = result.messages[2]!;
    expect(group.groupId).toBe('acct_7730');
    expect(group.traits['plan']).toBe('Starter');
    expect(result.messages[3]!.properties['path']).toBe('/pricing');
  });

  it('F4 batch: an item with only originalTimestamp is corrected with the batch-level sentAt', () => {
    const payload = {
      sentAt: '2025-03-15T08:00:02.000Z',
      batch: [
        { type: 'track', userId: 'u1', event: 'Ping', messageId: 'x', originalTimestamp: '2025-03-15T08:00:00.000Z' },
      ],
    };
    const result = parseSegmentPayload(payload, { receivedAt: ms('2025-03-15T08:05:02.000Z') });
    expect(result.messages.map((m) => iso(m.timestamp))).toEqual(['2025-03-15T08:05:00.000Z']);
  });

  it('F5 webhook delivery keeps its timestamp and its own receivedAt', () => {
    const body = readFileSync(new URL('../../fixtures/segment/f5-webhook-actions-track.body', import.meta.url), 'utf8');
    const message = single(JSON.parse(body));
    expect(iso(message.timestamp)).toBe('2025-03-14T10:00:01.230Z');
    expect(iso(message.receivedAt)).toBe('2025-03-14T10:00:01.410Z');
    expect(message.event).toBe('Trial Started');
    expect(message.properties['trial_plan_name']).toBe('Growth');
  });

  it('F5 batched variant: a JSON array of two messages', () => {
    const body = readFileSync(new URL('../../fixtures/segment/f5-webhook-actions-track.body', import.meta.url), 'utf8');
    const array = [
      JSON.parse(body),
      { type: 'identify', userId: 'u_7f3a91', messageId: 'api-x', traits: { plan: 'Growth' } },
    ];
    const result = parseSegmentPayload(array, { receivedAt: RECEIVED });
    expect(result.errors).toEqual([]);
    expect(result.messages.map((m) => [m.type, m.messageId, iso(m.timestamp)])).toEqual([
      ['track', 'node-next-1741946401120-2c9e5b7a-41d8-4f0e-b3a6-8e1f0d2c4b59', '2025-03-14T10:00:01.230Z'],
      ['identify', 'api-x', iso(RECEIVED)],
    ]);
  });
});

describe('parseSegmentPayload: rejected items', () => {
  const good = {
    type: 'track',
    userId: 'u1',
    event: 'Signed In',
    messageId: 'ok-1',
    timestamp: '2025-03-14T10:00:00Z',
  };

  it('one bad item does not reject the others, and the error names index, path and code', () => {
    const result = parseSegmentPayload(
      {
        batch: [
          good,
          { type: 'track', event: 'Signed In', messageId: 'no-ids' },
          { type: 'track', userId: 'u1', messageId: 'nameless' },
          { type: 'track', userId: 'u1', event: '  ', messageId: 'blank' },
          { type: 'group', userId: 'u1', messageId: 'g' },
          { type: 'alias', userId: 'u1', messageId: 'a' },
          { type: 'delete', userId: 'u1', messageId: 'd' },
          { ...good, messageId: 'm'.repeat(101) },
          { ...good, messageId: 'bad-ts', timestamp: 'yesterday' },
          { ...good, messageId: 'bad-props', properties: [1, 2] },
          'not an object',
          { ...good, messageId: 'ok-2' },
        ],
      },
      { receivedAt: RECEIVED },
    );
    expect(result.messages.map((m) => m.messageId)).toEqual(['ok-1', 'ok-2']);
    expect(result.errors.map((e) => [e.index, e.code, e.path])).toEqual([
      [1, 'no_user_anon_id', ['userId']],
      [2, 'missing_event', ['event']],
      [3, 'missing_event', ['event']],
      [4, 'missing_group_id', ['groupId']],
      [5, 'missing_previous_id', ['previousId']],
      [6, 'unknown_message_type', ['type']],
      [7, 'message_id_too_long', ['messageId']],
      [8, 'invalid_timestamp', ['timestamp']],
      [9, 'invalid_field', ['properties']],
      [10, 'invalid_field', []],
    ]);
    expect(result.errors[7]!.message).toContain('batch[8].timestamp');
  });

  it('a messageId of exactly 100 characters is accepted', () => {
    expect(single({ ...good, messageId: 'm'.repeat(100) }).messageId).toHaveLength(100);
  });

  it('an invalid batch envelope rejects the payload as a whole', () => {
    const result = parseSegmentPayload({ sentAt: 'soon', batch: [good] }, { receivedAt: RECEIVED });
    expect(result.messages).toEqual([]);
    expect(result.errors.map((e) => [e.index, e.code, e.path])).toEqual([[null, 'invalid_timestamp', ['sentAt']]]);
    const notArray = parseSegmentPayload({ batch: good }, { receivedAt: RECEIVED });
    expect(notArray.errors.map((e) => [e.index, e.code, e.path])).toEqual([[null, 'invalid_field', ['batch']]]);
  });

  it('something that is not a Segment payload gives one payload error', () => {
    for (const raw of ['hello', 42, null, undefined, true]) {
      const result = parseSegmentPayload(raw, { receivedAt: RECEIVED });
      expect(result.messages).toEqual([]);
      expect(result.errors.map((e) => e.code)).toEqual(['invalid_payload']);
    }
  });

  it('values JSON cannot carry are rejected, not passed on', () => {
    const result = parseSegmentPayload({ ...good, properties: { revenue: Number.NaN } }, { receivedAt: RECEIVED });
    expect(result.errors.map((e) => e.code)).toEqual(['invalid_json_value']);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), fc.jsonValue(), (anything, json) => {
        for (const raw of [anything, json, { batch: [anything, json] }, [json], { ...good, properties: json }]) {
          const result = parseSegmentPayload(raw, { receivedAt: RECEIVED });
          for (const error of result.errors) expect(error).toBeInstanceOf(SegmentMessageError);
          const batch: unknown = typeof raw === 'object' && raw !== null && 'batch' in raw ? raw.batch : undefined;
          const items = Array.isArray(raw) ? raw.length : Array.isArray(batch) ? batch.length : 1;
          expect(result.messages.length + result.errors.length).toBe(items);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseSegmentPayload: normalisation', () => {
  it('mints the same messageId for a retried message without one', () => {
    const call = {
      type: 'track',
      userId: 'u1',
      event: 'Clicked',
      timestamp: '2025-03-14T10:00:00Z',
      sentAt: '2025-03-14T10:00:01Z',
    };
    const first = single(call, RECEIVED);
    const retry = single({ ...call, sentAt: '2025-03-14T10:00:09Z' }, RECEIVED + 8_000);
    expect(first.messageId).toMatch(/^psm-[0-9a-f]{40}$/);
    expect(retry.messageId).toBe(first.messageId);
    expect(single({ ...call, event: 'Scrolled' }).messageId).not.toBe(first.messageId);
  });

  it('without any event time, separate arrivals of identical calls get separate ids', () => {
    const call = { type: 'track', userId: 'u1', event: 'Heartbeat' };
    expect(single(call, RECEIVED).messageId).not.toBe(single(call, RECEIVED + 60_000).messageId);
    expect(single(call, RECEIVED).messageId).toBe(single(call, RECEIVED).messageId);
  });

  it('passes unknown fields through, merges context with item keys winning, stringifies numeric ids', () => {
    const message = single({
      batch: [
        {
          type: 'identify',
          userId: 42,
          messageId: 'n',
          timestamp: '2025-03-14T10:55:00+01:00',
          custom: { a: 1 },
          context: { ip: '1.2.3.4', locale: 'de-DE' },
        },
      ],
      context: { locale: 'en-US', library: { name: 'lib' } },
      integrations: { All: true },
    });
    expect(message.userId).toBe('42');
    expect(message.entityKey).toBe('42');
    expect(iso(message.timestamp)).toBe('2025-03-14T09:55:00.000Z');
    expect(message.context).toEqual({ ip: '1.2.3.4', locale: 'de-DE', library: { name: 'lib' } });
    expect(message.integrations).toEqual({ All: true });
    expect(message.raw['custom']).toEqual({ a: 1 });
    expect(message.raw['userId']).toBe('42');
  });

  it('reads a timestamp without a zone as UTC and rejects impossible dates', () => {
    const base = { type: 'track', userId: 'u1', event: 'E', messageId: 'z' };
    expect(iso(single({ ...base, timestamp: '2025-03-14T09:55:00.123456' }).timestamp)).toBe(
      '2025-03-14T09:55:00.123Z',
    );
    const invalid = parseSegmentPayload({ ...base, timestamp: '2025-02-30T00:00:00Z' }, { receivedAt: RECEIVED });
    expect(invalid.errors.map((e) => e.code)).toEqual(['invalid_timestamp']);
  });

  it('the published raw message parses back to the same message', () => {
    for (const name of ['f1-identify-http-api.json', 'f2-track-order-completed.json', 'f4-batch.json']) {
      for (const message of parseSegmentPayload(fixture(name), { receivedAt: RECEIVED }).messages) {
        const again = single(JSON.parse(JSON.stringify(message.raw)), RECEIVED + 99_999);
        expect(again).toEqual(message);
      }
    }
    const minted = single({
      type: 'page',
      anonymousId: 'anon',
      name: 'Home',
      originalTimestamp: '2025-03-14T10:00:00Z',
      sentAt: '2025-03-14T10:00:05Z',
    });
    expect(single(minted.raw, RECEIVED + 1)).toEqual(minted);
  });
});

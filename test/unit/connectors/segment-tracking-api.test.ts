import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SegmentDecision } from '../../../src/connectors/segment/segment-decision.js';
import { segmentEnvelope } from '../../../src/connectors/segment/segment-envelope.js';
import { SEGMENT_LIMITS } from '../../../src/connectors/segment/segment-limits.js';
import {
  TRACKING_API_PATHS,
  trackingApiEndpoint,
  type TrackingApiEndpoint,
} from '../../../src/connectors/segment/tracking-api-endpoints.js';
import { decideTrackingApiRequest } from '../../../src/connectors/segment/tracking-api-request.js';
import { AcceptedWriteKeys } from '../../../src/connectors/segment/write-key.js';
import { segmentCanonicalEvents } from '../../../src/sources/canonical-events.js';
import { parseSegmentPayload } from '../../../src/sources/segment/index.js';

const WRITE_KEY = 'wk_test_8Jd2';
const F1_AUTHORIZATION = 'Basic d2tfdGVzdF84SmQyOg==';
const RECEIVED = Date.parse('2025-03-14T09:27:40.500Z');
const policy = {
  writeKeys: new AcceptedWriteKeys([WRITE_KEY]),
  maxEventBytes: SEGMENT_LIMITS.maxEventBytes,
  maxBatchEvents: SEGMENT_LIMITS.maxBatchEvents,
};
const fixtureText = (name: string) => readFileSync(new URL(`../../fixtures/segment/${name}`, import.meta.url), 'utf8');

/** `authorization` null: no Authorization header. */
function decide(path: string, body: unknown, authorization: string | null = F1_AUTHORIZATION): SegmentDecision {
  const endpoint = trackingApiEndpoint(path);
  if (endpoint === undefined) throw new Error(`no endpoint at ${path}`);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return decideTrackingApiRequest(
    { endpoint, authorization: authorization ?? undefined, body: Buffer.from(text), receivedAt: RECEIVED },
    policy,
  );
}

function published(decision: SegmentDecision) {
  if (decision.action !== 'publish') throw new Error(`expected publish, got ${JSON.stringify(decision)}`);
  return decision.events.map((event) => ({ ...event, payload: JSON.parse(event.payload) as Record<string, unknown> }));
}

describe('Tracking API endpoints', () => {
  it('maps the documented routes, /v1/import and analytics.js one-letter aliases', () => {
    const table = Object.fromEntries(
      TRACKING_API_PATHS.map((path) => [path, trackingApiEndpoint(path)] as [string, TrackingApiEndpoint]),
    );
    expect(table).toEqual({
      '/v1/track': { kind: 'single', type: 'track' },
      '/v1/identify': { kind: 'single', type: 'identify' },
      '/v1/group': { kind: 'single', type: 'group' },
      '/v1/page': { kind: 'single', type: 'page' },
      '/v1/screen': { kind: 'single', type: 'screen' },
      '/v1/alias': { kind: 'single', type: 'alias' },
      '/v1/batch': { kind: 'batch' },
      '/v1/import': { kind: 'batch' },
      '/v1/t': { kind: 'single', type: 'track' },
      '/v1/i': { kind: 'single', type: 'identify' },
      '/v1/g': { kind: 'single', type: 'group' },
      '/v1/p': { kind: 'single', type: 'page' },
      '/v1/s': { kind: 'single', type: 'screen' },
      '/v1/a': { kind: 'single', type: 'alias' },
      '/v1/b': { kind: 'batch' },
    });
    expect(trackingApiEndpoint('/v1/delete')).toBeUndefined();
    expect(trackingApiEndpoint('/webhooks/segment')).toBeUndefined();
  });
});

describe('decideTrackingApiRequest: write key', () => {
  const track = { event: 'Signed In', userId: 'u1', messageId: 'm-auth' };

  it('refuses a request without a write key, or with one not accepted, with 401 and Segment-style body', () => {
    expect(decide('/v1/track', track, null)).toEqual({
      action: 'reject',
      status: 401,
      result: 'rejected_write_key',
      body: {
        success: false,
        code: 'missing_write_key',
        message: 'no write key: send Authorization: Basic base64("<writeKey>:") or "writeKey" in the body',
      },
    });
    expect(decide('/v1/track', { ...track, writeKey: 'wk_wrong' }, null)).toEqual({
      action: 'reject',
      status: 401,
      result: 'rejected_write_key',
      body: { success: false, code: 'invalid_write_key', message: 'the writeKey in the body is not accepted' },
    });
    expect(decide('/v1/track', track, `Basic ${Buffer.from('wk_wrong:').toString('base64')}`)).toMatchObject({
      status: 401,
      body: { code: 'invalid_write_key' },
    });
  });

  it('takes the key from the body as analytics.js sends it, and never publishes it', () => {
    const events = published(decide('/v1/t', { ...track, type: 'track', writeKey: WRITE_KEY }, null));
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).not.toHaveProperty('writeKey');
  });

  it('answers 401 to a body that is not JSON and carries no header key, 400 when the header key is good', () => {
    expect(decide('/v1/track', '{"event":', null)).toMatchObject({ status: 401, result: 'rejected_write_key' });
    const invalid = decide('/v1/track', '{"event":');
    expect(invalid).toMatchObject({ action: 'reject', status: 400, result: 'invalid', body: { code: 'invalid_json' } });
  });
});

describe('decideTrackingApiRequest: single calls', () => {
  it('takes the type from the path and corrects the device clock with sentAt (reference F2 numbers)', () => {
    const events = published(
      decide('/v1/track', {
        type: 'identify',
        event: 'Order Completed',
        userId: 'u_7f3a91',
        messageId: 'ajs-next-1741944413000-5d2c8e1a',
        originalTimestamp: '2025-03-14T09:26:53.000Z',
        sentAt: '2025-03-14T09:26:55.000Z',
        receivedAt: '2020-01-01T00:00:00.000Z',
        properties: { revenue: 60, currency: 'EUR' },
      }),
    );
    expect(events.map(({ payload: _payload, ...envelope }) => envelope)).toEqual([
      {
        event_id: 'ajs-next-1741944413000-5d2c8e1a',
        source: 'segment',
        type: 'track',
        entity_key: 'u_7f3a91',
        occurred_at: Date.parse('2025-03-14T09:27:38.500Z'),
        received_at: RECEIVED,
        schema_version: 1,
      },
    ]);
    // The arrival time is ours, as Segment's servers stamp theirs: a client-sent receivedAt is not kept.
    expect(events[0]!.payload).toMatchObject({
      type: 'track',
      timestamp: '2025-03-14T09:27:38.500Z',
      receivedAt: '2025-03-14T09:27:40.500Z',
      sentAt: '2025-03-14T09:26:55.000Z',
    });
  });

  it('keys by anonymousId when there is no userId, and publishes F1 via /v1/identify keyed by userId', () => {
    const anonymous = published(decide('/v1/p', { anonymousId: 'anon-9', name: 'Pricing', messageId: 'p-1' }));
    expect(anonymous.map((event) => [event.type, event.entity_key])).toEqual([['page', 'anon-9']]);
    const f1 = published(decide('/v1/identify', fixtureText('f1-identify-http-api.json')));
    expect(f1.map((event) => [event.type, event.entity_key, event.occurred_at])).toEqual([
      ['identify', 'u_7f3a91', Date.parse('2025-03-14T09:55:00.000Z')],
    ]);
  });

  it('refuses a message with neither userId nor anonymousId: 400 with the Tracking API code no_user_anon_id', () => {
    const message = 'payload.userId: no_user_anon_id: a message needs a userId or an anonymousId';
    expect(decide('/v1/track', { event: 'Signed In', messageId: 'm-noid' })).toEqual({
      action: 'reject',
      status: 400,
      result: 'invalid',
      body: {
        success: false,
        code: 'no_user_anon_id',
        message,
        errors: [{ index: null, code: 'no_user_anon_id', field: 'userId', message }],
      },
    });
  });

  it('refuses a batch body or a non-object on a single-call endpoint', () => {
    expect(decide('/v1/track', { batch: [] })).toEqual({
      action: 'reject',
      status: 400,
      result: 'invalid',
      body: { success: false, code: 'invalid_payload', message: 'a {"batch":[…]} body goes to /v1/batch' },
    });
    expect(decide('/v1/track', [{ event: 'A', userId: 'u1' }])).toMatchObject({
      status: 400,
      body: { code: 'invalid_payload' },
    });
  });

  it('accepts an event of exactly 32 KB and refuses one byte more with 400, naming the message', () => {
    const sized = (bytes: number) => {
      const shell = JSON.stringify({
        type: 'track',
        event: 'Big',
        userId: 'u1',
        messageId: 'big-1',
        properties: { pad: '' },
      });
      return JSON.stringify({
        type: 'track',
        event: 'Big',
        userId: 'u1',
        messageId: 'big-1',
        properties: { pad: 'x'.repeat(bytes - shell.length) },
      });
    };
    expect(sized(32_768)).toHaveLength(32_768);
    expect(decide('/v1/track', sized(32_768)).action).toBe('publish');
    // Named by position, not by messageId: that is the sender's text.
    const message = 'the event is 32769 bytes; an event may be at most 32768 bytes';
    expect(decide('/v1/track', sized(32_769))).toEqual({
      action: 'reject',
      status: 400,
      result: 'too_large',
      body: {
        success: false,
        code: 'event_too_large',
        message,
        errors: [{ index: null, code: 'event_too_large', field: '', message }],
      },
    });
  });
});

describe('decideTrackingApiRequest: batches', () => {
  it('publishes reference batch F4 as five events in order, keyed by userId else anonymousId', () => {
    const events = published(decide('/v1/batch', fixtureText('f4-batch.json'), null));
    expect(events.map((event) => [event.event_id, event.type, event.entity_key])).toEqual([
      ['m-001', 'identify', 'b7e1f0a2-3c4d-4e5f-8a9b-0c1d2e3f4a5b'],
      ['m-002', 'track', 'u_c2d810'],
      ['m-003', 'group', 'u_c2d810'],
      ['m-004', 'page', 'u_c2d810'],
      ['m-005', 'track', 'u_c2d810'],
    ]);
    // Batch-level context is merged into every message; the batch's writeKey is on none of them.
    for (const event of events) {
      expect(event.payload['context']).toEqual({ library: { name: '@segment/analytics-node', version: '2.2.0' } });
      expect(JSON.stringify(event.payload)).not.toContain(WRITE_KEY);
    }
  });

  it('builds the same envelopes as segmentCanonicalEvents', () => {
    const text = fixtureText('f4-batch.json');
    const viaConnector = parseSegmentPayload(JSON.parse(text), { receivedAt: RECEIVED }).messages.map(segmentEnvelope);
    expect(viaConnector).toEqual(segmentCanonicalEvents(text, RECEIVED).events);
  });

  it('publishes the valid messages of a partly bad batch and lists the refused ones in the 200 body', () => {
    const decision = decide('/v1/import', {
      batch: [
        { type: 'track', event: 'Signed In', userId: 'u1', messageId: 'ok-1' },
        { type: 'track', event: 'Signed In', messageId: 'no-ids' },
        { type: 'track', userId: 'u2', messageId: 'no-name' },
        { type: 'delete', userId: 'u3', messageId: 'unknown-type' },
      ],
    });
    expect(published(decision).map((event) => event.event_id)).toEqual(['ok-1']);
    expect(decision.body).toEqual({
      success: true,
      errors: [
        {
          index: 1,
          code: 'no_user_anon_id',
          field: 'userId',
          message: 'batch[1].userId: no_user_anon_id: a message needs a userId or an anonymousId',
        },
        {
          index: 2,
          code: 'missing_event',
          field: 'event',
          message: 'batch[2].event: missing_event: a track call needs a non-empty event name',
        },
        {
          index: 3,
          code: 'unknown_message_type',
          field: 'type',
          message: expect.stringMatching(/^batch\[3\]\.type: unknown_message_type: /) as string,
        },
      ],
    });
  });

  it('refuses a batch in which nothing is valid with 400', () => {
    const decision = decide('/v1/batch', {
      batch: [
        { type: 'track', event: 'A', messageId: 'x-1' },
        { type: 'track', event: 'B', messageId: 'x-2' },
      ],
    });
    expect(decision).toMatchObject({
      action: 'reject',
      status: 400,
      result: 'invalid',
      body: {
        success: false,
        code: 'no_user_anon_id',
        message:
          'all 2 messages refused; first: batch[0].userId: no_user_anon_id: a message needs a userId or an anonymousId',
      },
    });
  });

  it('acknowledges an empty batch without publishing', () => {
    expect(decide('/v1/batch', { batch: [] })).toEqual({
      action: 'ignore',
      reason: 'no messages',
      body: { success: true, ignored: true },
    });
  });

  it('refuses a batch item over 32 KB (naming it) and more than 2,500 items, publishing nothing', () => {
    const big = {
      type: 'track',
      event: 'Big',
      userId: 'u1',
      messageId: 'big-2',
      properties: { pad: 'x'.repeat(33_000) },
    };
    const decision = decide('/v1/batch', { batch: [{ type: 'track', event: 'A', userId: 'u1' }, big] });
    expect(decision).toMatchObject({
      action: 'reject',
      status: 400,
      result: 'too_large',
      body: {
        code: 'event_too_large',
        message: 'batch[1] is 33088 bytes; an event may be at most 32768 bytes',
      },
    });
    const many = Array.from({ length: 2_501 }, (_, i) => ({ type: 'track', event: 'A', userId: `u${i}` }));
    expect(decide('/v1/batch', { batch: many })).toEqual({
      action: 'reject',
      status: 400,
      result: 'too_large',
      body: {
        success: false,
        code: 'too_many_events',
        message: 'the batch holds 2501 messages; a batch may hold at most 2500',
      },
    });
  });

  it('refuses a batch endpoint body without a batch array', () => {
    expect(decide('/v1/batch', { type: 'track', event: 'A', userId: 'u1' })).toEqual({
      action: 'reject',
      status: 400,
      result: 'invalid',
      body: { success: false, code: 'invalid_payload', message: 'expected {"batch":[…]} with an array of messages' },
    });
  });
});

describe('decideTrackingApiRequest: hostile input (issue #21)', () => {
  it('answers 400, never a 500, to properties nested 10,000 deep (finding 4)', () => {
    const nested = `{"event":"A","userId":"u1","properties":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    expect(decide('/v1/track', nested)).toEqual({
      action: 'reject',
      status: 400,
      result: 'invalid',
      body: { success: false, code: 'too_deep', message: 'the body nests arrays or objects deeper than 64 levels' },
    });
  });

  it('names the field and the rule of a refusal, never the value (finding 4)', () => {
    const pii = 'Carol Private 4111111111111111 carol.pii@example.com';
    const decision = decide('/v1/track', { event: 'A', userId: 'u1', timestamp: pii });
    const message = 'payload.timestamp: invalid_timestamp: expected an ISO-8601 date-time';
    expect(decision).toEqual({
      action: 'reject',
      status: 400,
      result: 'invalid',
      body: {
        success: false,
        code: 'invalid_timestamp',
        message,
        errors: [{ index: null, code: 'invalid_timestamp', field: 'timestamp', message }],
      },
    });
    const partly = decide('/v1/batch', {
      batch: [
        { type: 'track', event: 'A', userId: 'u1', sentAt: pii },
        { type: 'track', event: 'A', userId: 'u1' },
      ],
    });
    const notJson = decide('/v1/track', `{"event":"${pii}",`);
    for (const refused of [JSON.stringify(partly), JSON.stringify(notJson)]) {
      expect(refused).not.toMatch(/Carol|4111|carol\.pii/);
    }
    expect(notJson).toMatchObject({ status: 400, body: { message: 'the body is not valid JSON (UTF-8)' } });
  });

  it('holds a key sent in the body to its rate limit once it is accepted (429)', () => {
    const waits: string[] = [];
    const decision = decideTrackingApiRequest(
      {
        endpoint: { kind: 'single', type: 'track' },
        authorization: undefined,
        body: Buffer.from(JSON.stringify({ event: 'A', userId: 'u1', writeKey: WRITE_KEY })),
        receivedAt: RECEIVED,
      },
      {
        ...policy,
        admitBodyKey: (key) => {
          waits.push(key);
          return 1_500;
        },
      },
    );
    expect(waits).toEqual([WRITE_KEY]);
    expect(decision).toMatchObject({ action: 'reject', status: 429, result: 'rate_limited', retryAfterMs: 1_500 });
  });
});

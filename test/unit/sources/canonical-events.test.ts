import { describe, expect, it } from 'vitest';
import { generateTraffic } from '../../../src/demo/traffic-generator.js';
import type { DomainInput } from '../../../src/domain/pipeline/domain-input.js';
import { runOffline } from '../../../src/domain/pipeline/offline-run.js';
import { createPipeline } from '../../../src/domain/pipeline/pipeline.js';
import { defaultPipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import { canonicalEventSchema } from '../../../src/records/canonical-event.js';
import {
  CanonicalEventError,
  decodeCanonicalEvent,
  segmentCanonicalEvents,
  stripeCanonicalEvent,
} from '../../../src/sources/canonical-events.js';
import { decodeRawInput } from '../../../src/sources/raw-input.js';

const pipeline = createPipeline({ ...defaultPipelineConfig, fx_rates: { eur: 1.08, jpy: 0.0067 } });
const RECEIVED = Date.UTC(2026, 6, 1);

describe('canonical events', () => {
  const traffic = generateTraffic({ seed: 3, customers: 20, users: 20, months: 3, start: Date.UTC(2026, 0, 1) });

  it('raw traffic → envelopes → domain input gives the same profiles as decoding the raw traffic', () => {
    const viaEnvelopes: DomainInput[] = [];
    const direct: DomainInput[] = [];
    for (const event of traffic) {
      const text = JSON.stringify(event.raw);
      const result =
        event.source === 'stripe' ? stripeCanonicalEvent(text, RECEIVED) : segmentCanonicalEvents(text, RECEIVED);
      expect(result.ok).toBe(true);
      for (const envelope of result.events) {
        const record = canonicalEventSchema.parse(JSON.parse(JSON.stringify(envelope)));
        expect(record.occurred_at).toBe(event.at);
        const decoded = decodeCanonicalEvent(record);
        if (decoded instanceof CanonicalEventError) throw decoded;
        viaEnvelopes.push(...decoded);
      }
      direct.push(...decodeRawInput(event.raw, RECEIVED).inputs);
    }
    expect(viaEnvelopes.length).toBe(direct.length);
    const at = Date.UTC(2026, 3, 1);
    expect(runOffline(pipeline, viaEnvelopes, at).profiles).toEqual(runOffline(pipeline, direct, at).profiles);
  });

  it('keys Stripe events by customer and Segment messages by userId, else anonymousId', () => {
    const stripe = traffic.find(
      (event) => event.source === 'stripe' && String(event.raw['type']).startsWith('customer.subscription'),
    );
    const result = stripeCanonicalEvent(JSON.stringify(stripe?.raw), RECEIVED);
    expect(result.events[0]?.entity_key).toMatch(/^cus_/);
    const anonymous = segmentCanonicalEvents(
      JSON.stringify({
        type: 'track',
        event: 'Signed In',
        anonymousId: 'anon-1',
        messageId: 'm-1',
        timestamp: '2026-01-01T00:00:00Z',
      }),
      RECEIVED,
    );
    expect(anonymous.events.map((event) => [event.entity_key, event.event_id, event.occurred_at])).toEqual([
      ['anon-1', 'm-1', Date.UTC(2026, 0, 1)],
    ]);
  });

  it('rejects what is not JSON or not valid, and ignores Stripe types it does not use', () => {
    const notJson = stripeCanonicalEvent('{"id":', RECEIVED);
    expect(notJson.ok).toBe(false);
    expect(!notJson.ok && notJson.errors[0]?.code).toBe('not_json');
    const invalid = stripeCanonicalEvent(
      JSON.stringify({ id: 'evt_1', object: 'event', type: 'customer.subscription.updated', created: 1, data: {} }),
      RECEIVED,
    );
    expect(invalid.ok).toBe(false);
    const ignored = stripeCanonicalEvent(
      JSON.stringify({
        id: 'evt_2',
        object: 'event',
        type: 'product.created',
        created: 1,
        data: { object: { id: 'prod_1' } },
      }),
      RECEIVED,
    );
    expect(ignored).toEqual({ ok: true, events: [], ignored: true });
  });

  it('keeps the valid messages of a batch and reports the invalid ones', () => {
    const batch = {
      batch: [
        { type: 'track', event: 'Signed In', userId: 'u1', messageId: 'ok-1', timestamp: '2026-01-01T00:00:00Z' },
        { type: 'track', event: 'Signed In', messageId: 'bad-1' },
      ],
    };
    const result = segmentCanonicalEvents(JSON.stringify(batch), RECEIVED);
    expect(result.ok).toBe(false);
    expect(result.events.map((event) => event.event_id)).toEqual(['ok-1']);
    expect(!result.ok && result.errors[0]?.message).toMatch(/no_user_anon_id/);
  });

  it('a canonical event whose payload does not parse is an error for the dead-letter topic, not a crash', () => {
    const record = canonicalEventSchema.parse({
      event_id: 'evt_x',
      source: 'stripe',
      type: 'customer.created',
      entity_key: 'cus_1',
      occurred_at: 0,
      received_at: 0,
      payload: '{"broken"',
    });
    const decoded = decodeCanonicalEvent(record);
    expect(decoded).toBeInstanceOf(CanonicalEventError);
  });
});

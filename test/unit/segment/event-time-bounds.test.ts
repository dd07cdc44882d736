import { describe, expect, it } from 'vitest';
import { decodeCanonicalEvent, segmentCanonicalEvents } from '../../../src/sources/canonical-events.js';
import { parseIsoTimestamp, parseSegmentPayload } from '../../../src/sources/segment/index.js';

const RECEIVED = Date.UTC(2026, 2, 16, 12);
const HOUR = 3_600_000;
const iso = (at: number): string => new Date(at).toISOString();
const track = { type: 'track', event: 'Order Completed', userId: 'u1', messageId: 'm1' };

function refusal(raw: unknown, options: { maxEventTimeSkewMs?: number } = {}) {
  const result = parseSegmentPayload(raw, { receivedAt: RECEIVED, ...options });
  expect(result.messages).toEqual([]);
  const [error] = result.errors;
  if (error === undefined) throw new Error('expected a refusal');
  return { code: error.code, path: error.path, message: error.message };
}

describe('Segment event time at the edge', () => {
  it('refuses a timestamp from the future, naming the field and the rule but not the value', () => {
    const refused = refusal({ ...track, timestamp: '9999-12-31T23:59:59Z' });
    expect(refused).toMatchObject({ code: 'timestamp_in_future', path: ['timestamp'] });
    expect(refused.message).toMatch(/timestamp may be at most 24 h after the message was received/);
    expect(refused.message).not.toMatch(/9999/);
  });

  it('accepts a timestamp within the skew, and the skew is configurable', () => {
    const soon = { ...track, timestamp: iso(RECEIVED + 23 * HOUR) };
    expect(parseSegmentPayload(soon, { receivedAt: RECEIVED }).messages.map((m) => m.timestamp)).toEqual([
      RECEIVED + 23 * HOUR,
    ]);
    expect(refusal(soon, { maxEventTimeSkewMs: HOUR })).toMatchObject({
      code: 'timestamp_in_future',
      message: expect.stringMatching(/at most 1 h after/) as unknown,
    });
  });

  it('reads years 0000–0099 literally and refuses event times before the epoch', () => {
    expect(parseIsoTimestamp('0000-01-01T00:00:00Z')).toBe(Date.parse('0000-01-01T00:00:00Z'));
    expect(parseIsoTimestamp('0075-06-01T00:00:00Z')).toBe(Date.parse('0075-06-01T00:00:00Z'));
    expect(parseIsoTimestamp('0000-02-29T00:00:00Z')).toBe(Date.parse('0000-02-29T00:00:00Z'));
    expect(parseIsoTimestamp('1900-02-29T00:00:00Z')).toBeNull();
    for (const timestamp of ['0000-01-01T00:00:00Z', '0075-06-01T00:00:00Z', '1969-12-31T23:59:59Z']) {
      expect(refusal({ ...track, timestamp }), timestamp).toMatchObject({
        code: 'timestamp_too_old',
        path: ['timestamp'],
        message: expect.stringMatching(/may not be before 1970-01-01T00:00:00.000Z/) as unknown,
      });
    }
  });

  it('refuses a clock-skew correction that overflows, either way, rather than publish a time it cannot read back', () => {
    const ahead = refusal({ ...track, originalTimestamp: '9999-12-31T23:59:59Z', sentAt: '0000-01-01T00:00:00Z' });
    expect(ahead).toMatchObject({ code: 'timestamp_in_future', path: ['originalTimestamp'] });
    expect(ahead.message).toMatch(/corrected from originalTimestamp and sentAt/);
    const behind = refusal({ ...track, originalTimestamp: '0000-01-01T00:00:00Z', sentAt: '9999-12-31T23:59:59Z' });
    expect(behind).toMatchObject({ code: 'timestamp_too_old', path: ['originalTimestamp'] });
    // The batch-level sentAt takes part in the correction the same way.
    const batch = parseSegmentPayload(
      { batch: [{ ...track, originalTimestamp: '9999-12-31T23:59:59Z' }], sentAt: '0000-01-01T00:00:00Z' },
      { receivedAt: RECEIVED },
    );
    expect(batch.errors.map((error) => [error.index, error.code])).toEqual([[0, 'timestamp_in_future']]);
  });

  it('corrects a device clock years off instead of refusing it: only the corrected time is bounded', () => {
    const [message] = parseSegmentPayload(
      { ...track, originalTimestamp: '2031-05-01T10:00:00Z', sentAt: '2031-05-01T10:00:05Z' },
      { receivedAt: RECEIVED },
    ).messages;
    expect(message?.timestamp).toBe(RECEIVED - 5_000);
    const [reset] = parseSegmentPayload(
      { ...track, originalTimestamp: '0000-01-01T00:00:00Z', sentAt: '0000-01-01T00:00:05Z' },
      { receivedAt: RECEIVED },
    ).messages;
    expect(reset?.timestamp).toBe(RECEIVED - 5_000);
  });

  it("refuses a delivery's own receivedAt from the future, and keeps the valid messages of the batch", () => {
    const result = parseSegmentPayload(
      [
        { ...track, messageId: 'ok', timestamp: iso(RECEIVED - HOUR) },
        { ...track, messageId: 'late', receivedAt: '9999-01-01T00:00:00Z' },
      ],
      { receivedAt: RECEIVED },
    );
    expect(result.messages.map((message) => message.messageId)).toEqual(['ok']);
    expect(result.errors.map((error) => [error.index, error.code, error.path])).toEqual([
      [1, 'timestamp_in_future', ['receivedAt']],
    ]);
  });

  it('what the edge publishes the processor reads back; a record from the future is left to the processor', () => {
    const published = segmentCanonicalEvents(JSON.stringify({ ...track, timestamp: iso(RECEIVED) }), RECEIVED);
    expect(published.ok).toBe(true);
    const [event] = published.events;
    if (event === undefined) throw new Error('nothing published');
    expect(decodeCanonicalEvent(event)).not.toBeInstanceOf(Error);
    const future = JSON.stringify({ ...track, timestamp: '9999-12-31T23:59:59Z' });
    expect(segmentCanonicalEvents(future, RECEIVED).ok).toBe(false);
    const onTopic = { ...event, occurred_at: Date.UTC(9999, 11, 31, 23, 59, 59), payload: future };
    expect(decodeCanonicalEvent(onTopic)).not.toBeInstanceOf(Error);
  });
});

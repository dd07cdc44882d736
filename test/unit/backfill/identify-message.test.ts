import { describe, expect, it } from 'vitest';
import { backfillIdentifyMessage, backfillMessageId } from '../../../src/backfill/segment/identify-message.js';
import { parseUserList, userListHash } from '../../../src/backfill/segment/user-list.js';
import { segmentCanonicalEvents } from '../../../src/sources/canonical-events.js';

describe('backfillMessageId', () => {
  it('is SHA-256 of the user id and the canonical JSON of the traits, whatever their key order', () => {
    // sha256('u_1\n{"ltv":1200,"plan":"pro"}') starts f21354d5139b089c76a8e5526fd91929298b26b1.
    expect(backfillMessageId('u_1', { plan: 'pro', ltv: 1200 })).toBe('psb-f21354d5139b089c76a8e5526fd91929298b26b1');
    expect(backfillMessageId('u_1', { ltv: 1200, plan: 'pro' })).toBe('psb-f21354d5139b089c76a8e5526fd91929298b26b1');
    expect(backfillMessageId('u_1', { ltv: 1201, plan: 'pro' })).not.toBe(
      backfillMessageId('u_1', { ltv: 1200, plan: 'pro' }),
    );
    expect(backfillMessageId('u_2', { ltv: 1200, plan: 'pro' })).not.toBe(
      backfillMessageId('u_1', { ltv: 1200, plan: 'pro' }),
    );
  });
});

describe('backfillIdentifyMessage', () => {
  const now = Date.parse('2026-05-01T10:00:00.000Z');

  it('is an identify the segment parser publishes keyed by user, timed by the newest trait update', () => {
    const updatedAt = Date.parse('2026-04-20T08:30:00.000Z');
    const message = backfillIdentifyMessage('u_1', { plan: 'pro', ltv: 1200 }, updatedAt, now);
    expect(message).toEqual({
      type: 'identify',
      userId: 'u_1',
      messageId: 'psb-f21354d5139b089c76a8e5526fd91929298b26b1',
      timestamp: '2026-04-20T08:30:00.000Z',
      traits: { plan: 'pro', ltv: 1200 },
      context: { library: { name: 'persona-stream-backfill' } },
      integrations: {},
    });
    const result = segmentCanonicalEvents(JSON.stringify(message), now);
    expect(result.ok).toBe(true);
    expect(result.events).toHaveLength(1);
    expect(result.events[0]).toMatchObject({
      event_id: 'psb-f21354d5139b089c76a8e5526fd91929298b26b1',
      source: 'segment',
      type: 'identify',
      entity_key: 'u_1',
      occurred_at: updatedAt,
      received_at: now,
    });
  });

  it('is timed now when the API gave no update time', () => {
    expect(backfillIdentifyMessage('u_1', {}, null, now)['timestamp']).toBe('2026-05-01T10:00:00.000Z');
  });
});

describe('parseUserList', () => {
  it('takes one id per line, trimmed, skipping blanks, comments and repeats', () => {
    expect(parseUserList('u_1\r\n  u_2  \n\n# exported 2026-05-01\nu_1\nu 3\n')).toEqual(['u_1', 'u_2', 'u 3']);
    expect(parseUserList('\n# nothing\n')).toEqual([]);
  });

  it('hashes the list in order: another order or another list is another hash', () => {
    expect(userListHash(['a', 'b'])).toBe(userListHash(['a', 'b']));
    expect(userListHash(['a', 'b'])).not.toBe(userListHash(['b', 'a']));
    expect(userListHash(['a', 'b'])).toMatch(/^[0-9a-f]{32}$/);
  });
});

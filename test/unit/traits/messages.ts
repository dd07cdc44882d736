import type { JsonObject, SegmentMessage } from '../../../src/domain/segment/model.js';

export const T0 = Date.parse('2025-03-01T12:00:00.000Z');
export const DAY = 86_400_000;

let counter = 0;

export function track(
  event: string,
  at: number,
  properties: JsonObject = {},
  options: { userId?: string; messageId?: string } = {},
): SegmentMessage {
  return message('track', at, { event, properties }, options);
}

export function page(
  name: string,
  at: number,
  properties: JsonObject = {},
  options: { messageId?: string } = {},
): SegmentMessage {
  return message('page', at, { event: name, properties }, options);
}

export function identify(
  at: number,
  traits: JsonObject,
  options: { userId?: string; messageId?: string } = {},
): SegmentMessage {
  return message('identify', at, { traits }, options);
}

function message(
  type: SegmentMessage['type'],
  at: number,
  fields: Partial<SegmentMessage>,
  options: { userId?: string; messageId?: string },
): SegmentMessage {
  const userId = options.userId ?? 'u1';
  return {
    type,
    messageId: options.messageId ?? `msg-${++counter}`,
    userId,
    anonymousId: null,
    entityKey: userId,
    timestamp: at,
    event: null,
    properties: {},
    traits: {},
    groupId: null,
    previousId: null,
    ...fields,
  };
}

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { SegmentMessage } from '../../../src/domain/segment/model.js';
import {
  advanceTraitState,
  bucketCount,
  bucketsOf,
  applySegmentMessage,
  compileTraitDefinitions,
  createUserTraitState,
  defaultTraitDefinitions,
  type UserTraitState,
} from '../../../src/domain/traits/index.js';
import { DAY, T0, identify, track } from './messages.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const compiled = compileTraitDefinitions(defaultTraitDefinitions);
const USERS = 20_000;

/** Ten track events over three days (every third an order), optionally one identify with a unique email. */
function messagesOf(user: number, withIdentify: boolean): SegmentMessage[] {
  const userId = `user-${user}`;
  const messages: SegmentMessage[] = [];
  for (let i = 0; i < 10; i++) {
    const event = i % 3 === 0 ? 'Order Completed' : 'Signed In';
    messages.push(track(event, T0 + (i % 3) * DAY + i * 1000, { revenue: 19.99 }, { userId }));
  }
  if (withIdentify) {
    const traits = { email: `user-${user}@example.com`, plan: 'pro', company: { plan: 'pro', industry: 'SaaS' } };
    messages.push(identify(T0, traits, { userId }));
  }
  return messages;
}

/** Heap retained per user state, messages gone (strings a state keeps, like the email, are counted). */
function retainedBytesPerUser(withIdentify: boolean): number {
  const states: UserTraitState[] = new Array<UserTraitState>(USERS);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let user = 0; user < USERS; user++) {
    const state = createUserTraitState();
    for (const message of messagesOf(user, withIdentify)) applySegmentMessage(state, message, compiled);
    states[user] = state;
  }
  gc();
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / USERS;
  expect(states.every((state) => idCount(state) === (withIdentify ? 11 : 10))).toBe(true);
  return bytes;
}

function idCount(state: UserTraitState): number {
  return bucketsOf(state).reduce((sum, [, , ids]) => sum + ids.length, 0);
}

describe('per-user state size', () => {
  it('stays under 500 bytes for ten events over three days', () => {
    expect(retainedBytesPerUser(false)).toBeLessThan(500);
  });

  it('stays under 800 bytes with an identify call as well', () => {
    expect(retainedBytesPerUser(true)).toBeLessThan(800);
  });

  it('stays bounded for a user active every day once the watermark advances', () => {
    const state = createUserTraitState();
    for (let day = 0; day < 365; day++) {
      for (let i = 0; i < 20; i++) applySegmentMessage(state, track('Signed In', T0 + day * DAY + i), compiled);
      advanceTraitState(state, T0 + day * DAY, compiled, 7);
    }
    // Longest window 30 days + 7 days lateness.
    expect(bucketCount(state)).toBe(37);
    expect(idCount(state)).toBe(37 * 20);
  });
});

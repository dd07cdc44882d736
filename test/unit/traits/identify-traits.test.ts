import { describe, expect, it } from 'vitest';
import {
  applySegmentMessage,
  compileTraitDefinitions,
  createUserTraitState,
  defaultTraitDefinitions,
  evaluateTraits,
  traitDefinitionsSchema,
} from '../../../src/domain/traits/index.js';
import type { SegmentMessage } from '../../../src/domain/segment/model.js';
import { DAY, T0, identify, track } from './messages.js';

const defaults = compileTraitDefinitions(defaultTraitDefinitions);

function evaluate(messages: SegmentMessage[], at = T0 + DAY, compiled = defaults) {
  const state = createUserTraitState();
  for (const message of messages) applySegmentMessage(state, message, compiled);
  return evaluateTraits(state, compiled, at);
}

describe('identify traits', () => {
  it('copies plan, industry and email; plan falls back to company.plan', () => {
    const traits = evaluate([
      identify(T0, { email: 'dana@example.com', company: { plan: 'Growth', industry: 'Logistics' } }),
    ]);
    expect(traits).toMatchObject({ plan: 'Growth', industry: 'Logistics', email: 'dana@example.com' });
  });

  it('a top-level plan wins over company.plan, whichever identify is newer', () => {
    const traits = evaluate([identify(T0, { plan: 'pro' }), identify(T0 + 1000, { company: { plan: 'enterprise' } })]);
    expect(traits['plan']).toBe('pro');
  });

  it('the newest identify by event time wins, not the last to arrive', () => {
    const newer = identify(T0 + 5000, { plan: 'pro', industry: 'SaaS' });
    const older = identify(T0, { plan: 'free', email: 'a@example.com' });
    expect(evaluate([newer, older])).toMatchObject({ plan: 'pro', industry: 'SaaS', email: 'a@example.com' });
    expect(evaluate([older, newer])).toMatchObject({ plan: 'pro', industry: 'SaaS', email: 'a@example.com' });
  });

  it('identify calls at the same millisecond resolve the same way in any order', () => {
    const a = identify(T0, { plan: 'alpha' });
    const b = identify(T0, { plan: 'beta' });
    expect(evaluate([a, b])['plan']).toBe(evaluate([b, a])['plan']);
  });

  it('a null trait unsets it, letting the fallback path show', () => {
    const traits = evaluate([
      identify(T0, { plan: 'pro', company: { plan: 'team' } }),
      identify(T0 + 1, { plan: null }),
    ]);
    expect(traits['plan']).toBe('team');
  });

  it('identify values under a computed trait key take precedence over the computed value', () => {
    const orders = [track('Order Completed', T0, { revenue: 10 }), track('Order Completed', T0 + 1, { revenue: 20 })];
    expect(evaluate(orders)).toMatchObject({ ltv: 30, purchase_count: 2 });
    expect(evaluate([...orders, identify(T0 - DAY, { ltv: 1200, purchase_count: 8 })])).toMatchObject({
      ltv: 1200,
      purchase_count: 8,
    });
    expect(evaluate([...orders, identify(T0 - DAY, { ltv: 1200 }), identify(T0, { ltv: null })])).toMatchObject({
      ltv: 30,
    });
  });

  it('without prefer_identify the computed value is kept', () => {
    const compiled = compileTraitDefinitions(
      traitDefinitionsSchema.parse([{ key: 'ltv', type: 'sum', event: 'Order Completed', property: 'revenue' }]),
    );
    const traits = evaluate([track('Order Completed', T0, { revenue: 10 }), identify(T0, { ltv: 999 })], T0, compiled);
    expect(traits['ltv']).toBe(10);
  });

  it('turns objects and arrays into field values', () => {
    const compiled = compileTraitDefinitions(
      traitDefinitionsSchema.parse([
        { key: 'tags', type: 'identify', trait: 'tags' },
        { key: 'address', type: 'identify', trait: 'address' },
        { key: 'employees', type: 'identify', trait: 'company.employee_count' },
      ]),
    );
    const traits = evaluate(
      [
        identify(T0, {
          tags: ['b', 1, true, null],
          address: { country: 'DE', city: 'Berlin' },
          company: { employee_count: 240 },
        }),
      ],
      T0,
      compiled,
    );
    expect(traits).toMatchObject({
      tags: ['b', '1', 'true'],
      address: '{"city":"Berlin","country":"DE"}',
      employees: 240,
    });
  });

  it('reports first_seen_at and last_seen_at over every message type', () => {
    const traits = evaluate([track('A', T0 + 10), identify(T0 - 5, {}), track('B', T0 + 3)]);
    expect(traits).toMatchObject({ first_seen_at: T0 - 5, last_seen_at: T0 + 10 });
    expect(evaluate([])).toMatchObject({ first_seen_at: null, last_seen_at: null, email: null, plan: null });
  });
});

import { describe, expect, it } from 'vitest';
import {
  applySegmentMessage,
  churnRisk,
  compileTraitDefinitions,
  createUserTraitState,
  defaultTraitDefinitions,
  evaluateTraits,
  traitDefinitionsSchema,
} from '../../../src/domain/traits/index.js';
import { DAY, T0, identify, page, track } from './messages.js';

const compiled = compileTraitDefinitions(
  traitDefinitionsSchema.parse([
    { key: 'churn_risk', type: 'churn_risk' },
    { key: 'engagement_tier', type: 'engagement_tier' },
  ]),
);

function stateWithActivity(days: number[], perDay = 1) {
  const state = createUserTraitState();
  for (const day of days) {
    for (let i = 0; i < perDay; i++) applySegmentMessage(state, track('Used', T0 + day * DAY + i), compiled);
  }
  return state;
}

describe('churn_risk', () => {
  it('documented reference points', () => {
    expect(churnRisk(T0, 60, T0)).toBe(0.03);
    expect(churnRisk(T0, 1, T0)).toBe(0.32);
    expect(churnRisk(T0, 10, T0 + 7 * DAY)).toBe(0.29);
    expect(churnRisk(T0, 0, T0 + 30 * DAY)).toBe(0.86);
  });

  it('is null for a user without activity, even with identify calls', () => {
    const state = createUserTraitState();
    applySegmentMessage(state, identify(T0, { plan: 'pro' }), compiled);
    expect(evaluateTraits(state, compiled, T0)).toMatchObject({ churn_risk: null, engagement_tier: null });
  });

  it('rises monotonically with inactivity as evaluation time advances', () => {
    const state = stateWithActivity([0, 1, 2, 3, 4], 3);
    let previous = -1;
    const seen: number[] = [];
    for (let hours = 4 * 24; hours <= 120 * 24; hours += 6) {
      const risk = evaluateTraits(state, compiled, T0 + hours * 3_600_000)['churn_risk'] as number;
      expect(risk).toBeGreaterThanOrEqual(previous);
      expect(risk).toBeLessThanOrEqual(1);
      previous = risk;
      seen.push(risk);
    }
    expect(seen[0]).toBe(0.08);
    expect(seen.at(-1)).toBe(1);
  });

  it('frequent recent activity lowers it; page views count as activity', () => {
    const busy = stateWithActivity([0, 1, 2, 3, 4, 5], 10);
    const quiet = stateWithActivity([5]);
    const at = T0 + 5 * DAY;
    expect(evaluateTraits(busy, compiled, at)['churn_risk']).toBe(0.03);
    expect(evaluateTraits(quiet, compiled, at)['churn_risk']).toBe(0.32);
    applySegmentMessage(quiet, page('Pricing', at + 1), compiled);
    expect(evaluateTraits(quiet, compiled, at)['churn_risk']).toBe(0.27);
  });
});

describe('engagement_tier', () => {
  it('high from 12 active days in 30, medium from 4, low otherwise', () => {
    const at = T0 + 29 * DAY;
    const tier = (days: number[]) => evaluateTraits(stateWithActivity(days, 5), compiled, at)['engagement_tier'];
    expect(tier(Array.from({ length: 12 }, (_, i) => i * 2))).toBe('high');
    expect(tier(Array.from({ length: 11 }, (_, i) => i * 2))).toBe('medium');
    expect(tier([0, 10, 20, 29])).toBe('medium');
    expect(tier([27, 28, 29])).toBe('low');
  });

  it('drops as active days leave the 30-day window', () => {
    const state = stateWithActivity([0, 1, 2, 3]);
    expect(evaluateTraits(state, compiled, T0 + 29 * DAY)['engagement_tier']).toBe('medium');
    expect(evaluateTraits(state, compiled, T0 + 30 * DAY)['engagement_tier']).toBe('low');
    expect(evaluateTraits(state, compiled, T0 + 300 * DAY)['engagement_tier']).toBe('low');
  });

  it('the default definitions include both builtins', () => {
    const defaults = compileTraitDefinitions(defaultTraitDefinitions);
    const state = createUserTraitState();
    applySegmentMessage(state, track('Signed In', T0), defaults);
    expect(evaluateTraits(state, defaults, T0)).toMatchObject({ churn_risk: 0.32, engagement_tier: 'low' });
  });
});

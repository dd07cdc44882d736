import { describe, expect, it } from 'vitest';
import {
  applySegmentMessage,
  compileTraitDefinitions,
  createUserTraitState,
  defaultTraitDefinitions,
  evaluateTraits,
} from '../../../src/domain/traits/index.js';
import type { FieldValue } from '../../../src/domain/profile/model.js';
import { DAY, T0, identify, track } from './messages.js';
import { SEED_002_PROFILES } from '../../fixtures/seeds.js';

const SEED_PROFILES = SEED_002_PROFILES;

/** The seed's clustering rule, to show the three groups come out as the seed's example output. */
function seedCluster(traits: Readonly<Record<string, FieldValue>>): string {
  const ltv = Number(traits['ltv'] ?? 0);
  const purchases = Number(traits['purchase_count'] ?? 0);
  const churn = Number(traits['churn_risk'] ?? 0.5);
  if (ltv > 500 && churn < 0.15) return 'high_value';
  if (ltv > 100 && purchases >= 2) return 'growth';
  if (churn > 0.4) return 'at_risk';
  return 'new';
}

describe('seed 002 profiles sent as identify calls', () => {
  const compiled = compileTraitDefinitions(defaultTraitDefinitions);
  const at = T0 + 2 * DAY;
  const evaluated = Array.from({ length: 60 }, (_, i) => {
    const userId = `seed-user-${i}`;
    const state = createUserTraitState();
    applySegmentMessage(state, identify(T0, SEED_PROFILES[i % 3]!, { userId }), compiled);
    // Some users also have tracked orders and activity: the identify values still win.
    if (i % 2 === 0) {
      applySegmentMessage(state, track('Order Completed', T0 + DAY, { revenue: 10 }, { userId }), compiled);
    }
    return evaluateTraits(state, compiled, at);
  });

  it('evaluates to exactly the identify values (identify precedence)', () => {
    evaluated.forEach((traits, i) => {
      expect(traits).toMatchObject(SEED_PROFILES[i % 3]!);
    });
  });

  it('gives three groups of 20 with ltv 1200/450/85 and churn 0.05/0.22/0.65', () => {
    const groups = new Map<string, Readonly<Record<string, FieldValue>>[]>();
    for (const traits of evaluated) {
      const cluster = seedCluster(traits);
      groups.set(cluster, [...(groups.get(cluster) ?? []), traits]);
    }
    const summary = [...groups].map(([cluster, members]) => ({
      cluster,
      n: members.length,
      avgLtv: members.reduce((sum, t) => sum + Number(t['ltv']), 0) / members.length,
      avgChurn: members.reduce((sum, t) => sum + Number(t['churn_risk']), 0) / members.length,
    }));
    expect(summary).toEqual([
      { cluster: 'high_value', n: 20, avgLtv: 1200, avgChurn: expect.closeTo(0.05, 10) as number },
      { cluster: 'growth', n: 20, avgLtv: 450, avgChurn: expect.closeTo(0.22, 10) as number },
      { cluster: 'at_risk', n: 20, avgLtv: 85, avgChurn: expect.closeTo(0.65, 10) as number },
    ]);
  });
});

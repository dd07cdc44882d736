import { describe, expect, it } from 'vitest';
import { contentHash } from '../../../src/domain/personas/canonical-json.js';
import type { MaveraPersonaPayload } from '../../../src/domain/personas/mavera-payload.js';
import {
  defaultPersonaPolicy,
  InvalidPersonaPolicyError,
  parsePersonaPolicy,
} from '../../../src/domain/personas/persona-policy.js';
import { decidePersonaUpdate, type PersonaVersion } from '../../../src/domain/personas/persona-update-decision.js';
import { renderPersona } from '../../../src/domain/personas/render-persona.js';
import { defaultSegmentFamilies } from '../../../src/domain/segments/default-families.js';
import type { SegmentSummary } from '../../../src/domain/segments/segment-summary.js';

const revenueTier = defaultSegmentFamilies.find((f) => f.name === 'revenue_tier')!;

interface Shape {
  readonly count: number;
  readonly mrr: number;
  readonly countries?: readonly string[];
  readonly pastDue?: number | null;
  readonly label?: string;
  readonly sampleIds?: readonly string[];
}

/** A revenue-tier segment as the flusher would see it: its summary and the payload rendered from it. */
function version({
  count,
  mrr,
  countries = ['US'],
  pastDue = null,
  label = 'Enterprise',
  sampleIds = ['cus_1'],
}: Shape): PersonaVersion {
  const summary: SegmentSummary = {
    family: 'revenue_tier',
    segment: 'enterprise',
    label,
    count,
    sums: { mrr: mrr * count },
    averages: { mrr, past_due: pastDue },
    top: { country: countries },
    sampleIds,
  };
  const payload = renderPersona(revenueTier, summary, defaultPersonaPolicy);
  if (payload === null) throw new Error('segment too small for a persona');
  return { payload, summary };
}

describe('decidePersonaUpdate', () => {
  it('creates when nothing was sent, with the hash of the payload', () => {
    const next = version({ count: 34, mrr: 28_450 });
    expect(decidePersonaUpdate(undefined, next, defaultPersonaPolicy)).toEqual({
      action: 'create',
      reasons: ['no persona sent yet'],
      hash: contentHash(next.payload),
    });
  });

  it('does nothing for an identical payload, even when only the sample ids moved', () => {
    const last = version({ count: 34, mrr: 28_450, sampleIds: ['cus_1', 'cus_2'] });
    const next = version({ count: 34, mrr: 28_450, sampleIds: ['cus_0', 'cus_1'] });
    expect(decidePersonaUpdate(last, next, defaultPersonaPolicy)).toEqual({
      action: 'none',
      reasons: ['payload unchanged'],
      hash: contentHash(last.payload),
    });
  });

  it('ignores number moves within the thresholds', () => {
    const last = version({ count: 100, mrr: 28_000 });
    const next = version({ count: 105, mrr: 29_400 });
    const decision = decidePersonaUpdate(last, next, defaultPersonaPolicy);
    expect(decision.action).toBe('none');
    expect(decision.reasons).toEqual(['changes within thresholds']);
    expect(decision.hash).not.toBe(contentHash(last.payload));
  });

  it('updates once slow count drift since the last SENT version crosses 5%', () => {
    const sent = version({ count: 100, mrr: 28_000 });
    const steps = [102, 104, 105, 106].map((count) =>
      decidePersonaUpdate(sent, version({ count, mrr: 28_000 }), defaultPersonaPolicy),
    );
    expect(steps.map((d) => d.action)).toEqual(['none', 'none', 'none', 'update']);
    expect(steps[3]?.reasons).toEqual(['count 100 → 106']);
    // After sending 106 the baseline moves: 110 is only 3.8 % away.
    const resent = version({ count: 106, mrr: 28_000 });
    expect(decidePersonaUpdate(resent, version({ count: 110, mrr: 28_000 }), defaultPersonaPolicy).action).toBe('none');
  });

  it('updates when an average drifts more than 5% from the sent value', () => {
    const sent = version({ count: 100, mrr: 1_000 });
    expect(decidePersonaUpdate(sent, version({ count: 100, mrr: 1_049 }), defaultPersonaPolicy).action).toBe('none');
    expect(decidePersonaUpdate(sent, version({ count: 100, mrr: 951 }), defaultPersonaPolicy).action).toBe('none');
    expect(decidePersonaUpdate(sent, version({ count: 100, mrr: 1_051 }), defaultPersonaPolicy)).toMatchObject({
      action: 'update',
      reasons: ['average mrr 1000 → 1051'],
    });
  });

  it('treats an average leaving 0 or appearing as material', () => {
    const sent = version({ count: 100, mrr: 1_000, pastDue: 0 });
    const next = version({ count: 100, mrr: 1_001, pastDue: 0.004 });
    expect(decidePersonaUpdate(sent, next, defaultPersonaPolicy).reasons).toEqual(['average past_due 0 → 0.004']);
    const fromNull = decidePersonaUpdate(version({ count: 100, mrr: 1_000 }), next, defaultPersonaPolicy);
    expect(fromNull.reasons).toEqual(['average past_due appeared']);
  });

  it('needs min_count_change members as well as the ratio', () => {
    const policy = { ...defaultPersonaPolicy, min_count_change: 3 };
    const sent = version({ count: 10, mrr: 5_000 });
    expect(decidePersonaUpdate(sent, version({ count: 12, mrr: 5_000 }), policy).action).toBe('none');
    expect(decidePersonaUpdate(sent, version({ count: 13, mrr: 5_000 }), policy).action).toBe('update');
    expect(decidePersonaUpdate(sent, version({ count: 12, mrr: 5_000 }), defaultPersonaPolicy).action).toBe('update');
  });

  it('updates on text that changed other than its numbers, and on a changed top list', () => {
    const sent = version({ count: 100, mrr: 28_000, countries: ['US', 'CA'] });
    expect(
      decidePersonaUpdate(
        sent,
        version({ count: 100, mrr: 28_000, countries: ['US', 'CA'], label: 'Gold' }),
        defaultPersonaPolicy,
      ),
    ).toMatchObject({
      action: 'update',
      reasons: ['name changed'],
    });
    expect(
      decidePersonaUpdate(sent, version({ count: 101, mrr: 28_000, countries: ['CA', 'US'] }), defaultPersonaPolicy),
    ).toMatchObject({
      action: 'update',
      reasons: ['key_differentiators changed', 'top country changed: [US, CA] → [CA, US]'],
    });
    const withPains = version({ count: 100, mrr: 28_000, countries: ['US', 'CA'], pastDue: 0.2 });
    expect(decidePersonaUpdate(sent, withPains, defaultPersonaPolicy).reasons).toEqual([
      'pains changed',
      'average past_due appeared',
    ]);
  });

  it('compares documented fields only through their masked text', () => {
    const last: PersonaVersion = { ...version({ count: 100, mrr: 28_000 }) };
    const payload: MaveraPersonaPayload = {
      ...last.payload,
      description: 'Revenue tier: enterprise. 100 customers, avg MRR $28,001.',
    };
    expect(decidePersonaUpdate(last, { ...last, payload }, defaultPersonaPolicy).action).toBe('none');
    const reworded: MaveraPersonaPayload = {
      ...last.payload,
      description: 'Revenue tier: enterprise. 100 accounts, avg MRR $28,000.',
    };
    expect(decidePersonaUpdate(last, { ...last, payload: reworded }, defaultPersonaPolicy).reasons).toEqual([
      'description changed',
    ]);
  });
});

describe('persona policy', () => {
  it('defaults', () => {
    expect(parsePersonaPolicy(undefined)).toEqual({
      min_segment_size: 3,
      count_change_ratio: 0.05,
      min_count_change: 1,
      average_change_ratio: 0.05,
    });
    expect(parsePersonaPolicy({ min_segment_size: 10 }).min_segment_size).toBe(10);
  });

  it('names the invalid field', () => {
    expect(() => parsePersonaPolicy({ count_change_ratio: -1 })).toThrow(InvalidPersonaPolicyError);
    const error = (() => {
      try {
        parsePersonaPolicy({ min_segment_size: 2.5, extra: true });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidPersonaPolicyError);
    expect((error as InvalidPersonaPolicyError).issues.map((i) => i.path)).toEqual(['min_segment_size', '']);
  });
});

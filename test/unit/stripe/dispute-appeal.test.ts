import { describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import {
  applyStripeFact,
  createCustomerState,
  createPipeline,
  deriveProfile,
} from '../../../src/domain/pipeline/pipeline.js';
import { createEntityStateCodec } from '../../../src/domain/state/index.js';
import { parseStripeEvent } from '../../../src/sources/stripe/index.js';
import { fixture } from './fixtures.js';

const pipeline = createPipeline(parsePipelineConfig({}));

/** The expanded-charge dispute fixture, moved to one of Stripe's appeal statuses (in stripe-node 23's typings). */
function appealEvent(status: 'appeal_needs_response' | 'appeal_under_review'): unknown {
  const raw = fixture('dispute-created-charge-expanded.json') as {
    type: string;
    data: { object: Record<string, unknown> };
  };
  return { ...raw, type: 'charge.dispute.updated', data: { object: { ...raw.data.object, status } } };
}

describe('disputes under appeal', () => {
  it.each(['appeal_needs_response', 'appeal_under_review'] as const)(
    'a %s dispute is parsed, counts as open on the profile and survives the state codec',
    (status) => {
      const result = parseStripeEvent(appealEvent(status));
      expect(result.ok).toBe(true);
      if (!result.ok || result.ignored) return;
      expect(result.facts).toMatchObject([{ kind: 'dispute', status }]);
      const state = createCustomerState('cus_Basil1');
      for (const fact of result.facts) applyStripeFact(state, fact);
      const at = Date.UTC(2026, 6, 1);
      expect(deriveProfile(pipeline, state, at).fields['disputes_open']).toBe(1);
      const codec = createEntityStateCodec(pipeline);
      expect(deriveProfile(pipeline, codec.decode(codec.encode(state)), at)).toEqual(
        deriveProfile(pipeline, state, at),
      );
    },
  );
});

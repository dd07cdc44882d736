import { expect } from 'vitest';
import { generateTraffic } from '../../../src/demo/traffic-generator.js';
import { createPipeline, type Pipeline } from '../../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import type { SegmentMessage } from '../../../src/domain/segment/model.js';
import type { StripeFact } from '../../../src/domain/stripe/model.js';
import { defaultTraitDefinitions, type TraitDefinitionInput } from '../../../src/domain/traits/index.js';
import { decodeRawInput } from '../../../src/sources/raw-input.js';

export const DAY = 86_400_000;
export const START = Date.UTC(2026, 0, 1);

/** Every kind of partial, windowed and all-time, over what the demo generator sends. */
export const extraTraits: TraitDefinitionInput[] = [
  { key: 'revenue_7d', type: 'sum', event: 'Order Completed', property: 'revenue', within_days: 7 },
  { key: 'avg_order_30d', type: 'avg', event: 'Order Completed', property: 'revenue', within_days: 30 },
  { key: 'min_order', type: 'min', event: 'Order Completed', property: 'revenue' },
  { key: 'max_order_14d', type: 'max', event: 'Order Completed', property: 'revenue', within_days: 14 },
  { key: 'first_feature', type: 'first', event: 'Feature Used', property: 'feature' },
  { key: 'last_feature_10d', type: 'last', event: 'Feature Used', property: 'feature', within_days: 10 },
  { key: 'last_signin', type: 'last', event: 'Signed In' },
  { key: 'top_feature_30d', type: 'most_frequent', event: 'Feature Used', property: 'feature', within_days: 30 },
  { key: 'features', type: 'unique_list', event: 'Feature Used', property: 'feature' },
  { key: 'feature_kinds_7d', type: 'unique_count', event: 'Feature Used', property: 'feature', within_days: 7 },
  { key: 'dashboard_views', type: 'count', message_type: 'page', event: 'Dashboard' },
];

export const pipeline: Pipeline = createPipeline(
  parsePipelineConfig({
    fx_rates: { eur: 1.08, jpy: 0.0067 },
    traits: [...defaultTraitDefinitions, ...extraTraits],
  }),
);

export interface EntityStreams {
  readonly customers: readonly { readonly id: string; readonly facts: readonly StripeFact[] }[];
  readonly users: readonly { readonly key: string; readonly messages: readonly SegmentMessage[] }[];
}

/** The demo traffic of one seed, as one event stream per customer and per user (event-time order). */
export function entityStreams(seed: number, customers: number, users: number, months: number): EntityStreams {
  const byCustomer = new Map<string, StripeFact[]>();
  const byUser = new Map<string, SegmentMessage[]>();
  for (const event of generateTraffic({ seed, customers, users, months, start: START })) {
    const decoded = decodeRawInput(event.raw, event.at);
    expect(decoded.errors).toEqual([]);
    for (const input of decoded.inputs) {
      if (input.source === 'segment') {
        const list = byUser.get(input.message.entityKey) ?? [];
        list.push(input.message);
        byUser.set(input.message.entityKey, list);
      } else {
        for (const fact of input.facts) {
          const list = byCustomer.get(fact.customerId) ?? [];
          list.push(fact);
          byCustomer.set(fact.customerId, list);
        }
      }
    }
  }
  return {
    customers: [...byCustomer].map(([id, facts]) => ({ id, facts })),
    users: [...byUser].map(([key, messages]) => ({ key, messages })),
  };
}

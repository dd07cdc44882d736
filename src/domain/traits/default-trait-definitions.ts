import { traitDefinitionsSchema, type TraitDefinition, type TraitDefinitionInput } from './trait-definition.js';

/**
 * The traits seed 002 reads from Segment profiles. Each prefers a value delivered in identify traits under the same
 * key (Engage computed traits and the Profile API backfill arrive that way) and otherwise computes it from events.
 * `plan`/`industry` are custom top-level traits in the Spec; the reserved copies live under `company`.
 */
const inputs: readonly TraitDefinitionInput[] = [
  { key: 'ltv', type: 'sum', event: 'Order Completed', property: 'revenue', prefer_identify: true },
  { key: 'purchase_count', type: 'count', event: 'Order Completed', prefer_identify: true },
  { key: 'churn_risk', type: 'churn_risk', prefer_identify: true },
  { key: 'engagement_tier', type: 'engagement_tier', prefer_identify: true },
  { key: 'plan', type: 'identify', trait: ['plan', 'company.plan'] },
  { key: 'industry', type: 'identify', trait: ['industry', 'company.industry'] },
  { key: 'email', type: 'identify', trait: 'email' },
];

export const defaultTraitDefinitions: readonly TraitDefinition[] = traitDefinitionsSchema.parse(inputs);

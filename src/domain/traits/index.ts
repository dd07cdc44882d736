export {
  DEFAULT_LATENESS_DAYS,
  RESERVED_TRAIT_KEYS,
  latenessDaysSchema,
  traitConditionSchema,
  traitDefinitionSchema,
  traitDefinitionsSchema,
} from './trait-definition.js';
export type { TraitCondition, TraitDefinition, TraitDefinitionInput, TraitType } from './trait-definition.js';
export { defaultTraitDefinitions } from './default-trait-definitions.js';
export { ACTIVITY_WINDOW_DAYS, TraitDefinitionError, compileTraitDefinitions } from './compiled-traits.js';
export type { CompiledTraits } from './compiled-traits.js';
export { createUserTraitState } from './user-trait-state.js';
export { bucketCount, bucketsOf } from './day-buckets.js';
export type { UserTraitState } from './user-trait-state.js';
export { applySegmentMessage } from './apply-segment-message.js';
export { advanceTraitState, rewindTraitHorizon } from './advance-trait-state.js';
export { evaluateTraits } from './evaluate-traits.js';
export {
  ENGAGEMENT_HIGH_MIN_ACTIVE_DAYS,
  ENGAGEMENT_MEDIUM_MIN_ACTIVE_DAYS,
  churnRisk,
  engagementTier,
} from './activity-builtins.js';
export {
  TraitStateDecodeError,
  USER_TRAIT_STATE_JSON_VERSION,
  userTraitStateFromJSON,
  userTraitStateJsonSchema,
  userTraitStateToJSON,
} from './user-trait-state-json.js';
export type { UserTraitStateJson } from './user-trait-state-json.js';

export { compileCondition, conditionSchema, type Condition, type Predicate, type Scalar } from './condition.js';
export { defaultSegmentFamilies } from './default-families.js';
export { labelOfKey, pythonTitle } from './label.js';
export { compileFamily, memberships, segmentOf, type CompiledFamily, type Membership } from './membership.js';
export { knownCountryCodes, regionOfCountry, REGIONS, type Region } from './region.js';
export {
  InvalidSegmentConfigError,
  parseSegmentFamilies,
  parseSegmentFamily,
  segmentFamiliesSchema,
  segmentFamilySchema,
  type NumericSummaryField,
  type PersonaTemplateConfig,
  type PersonaTemplateName,
  type SegmentFamily,
  type SegmentRule,
  type SummarySpec,
} from './segment-family.js';
export { SegmentIndex, UnknownSegmentError } from './segment-index.js';
export type { SegmentSummary } from './segment-summary.js';

export { canonicalJson, contentHash } from './canonical-json.js';
export { formatPython, UnsupportedFormatSpecError } from './format-python.js';
export {
  fitPersonaName,
  maveraPersonaPayloadSchema,
  type MaveraPersonaPayload,
  type PersonaType,
  type PipelineType,
} from './mavera-payload.js';
export {
  findShapeViolations,
  MAX_ARRAY_ITEMS,
  MAX_NESTING_LEVELS,
  shapeForMavera,
  validatePersonaPayload,
  type PayloadViolation,
} from './mavera-shape.js';
export {
  defaultPersonaPolicy,
  InvalidPersonaPolicyError,
  parsePersonaPolicy,
  personaPolicySchema,
  type PersonaPolicy,
} from './persona-policy.js';
export { decidePersonaUpdate, type PersonaUpdateDecision, type PersonaVersion } from './persona-update-decision.js';
export { renderPersona } from './render-persona.js';

export { createEntityStateCodec, decodeEntityState, encodeEntityState } from './entity-state-codec.js';
export { EntityStateDecodeError, EntityStateEncodeError } from './entity-state-errors.js';
export type { EntityStateDecodeReason } from './entity-state-errors.js';
export { FORMAT_VERSION as ENTITY_STATE_FORMAT_VERSION } from './wire-format.js';

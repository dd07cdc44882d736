import type { MaveraPersonaPayload } from '../domain/personas/mavera-payload.js';
import type { JsonObject } from '../domain/segment/model.js';

/** List fields a template may leave out when it has nothing to say (no billing risk: no `pains`). */
const CLEARABLE_LISTS = ['key_differentiators', 'pains'] as const;

/**
 * The body of a PATCH: the whole rendered payload (so the persona converges on it even if an earlier update was
 * lost), plus an empty list for every list field the payload no longer has but the persona may still hold: the
 * last sent payload had it, or what the persona holds is unknown (`previous` undefined: adopted, unreadable entry).
 * Otherwise a PATCH, which changes only the fields it sends, would leave stale pains on the persona.
 * `industry` cannot be cleared that way (Mavera documents no empty value for it) and stays as it is.
 */
export function updateBody(payload: MaveraPersonaPayload, previous: MaveraPersonaPayload | undefined): JsonObject {
  const clears = CLEARABLE_LISTS.filter(
    (field) => payload[field] === undefined && (previous === undefined || previous[field] !== undefined),
  );
  if (clears.length === 0) return payload;
  return { ...payload, ...Object.fromEntries(clears.map((field) => [field, []])) };
}

import { z } from 'zod';

export type PipelineType = 'north_star' | 'intermediate' | 'advanced';
export type PersonaType = 'B2B' | 'B2C';

/**
 * The body of `POST /personas` and `PATCH /personas/{id}`, restricted to fields Mavera documents
 * (reference/mavera-api.md §2.3–2.4). The seeds' free-form `attributes`, `demographic` and `psychographic`
 * objects are not in that schema, so their content travels in documented fields instead; see
 * `persona-content.ts` for the mapping.
 */
export type MaveraPersonaPayload = {
  readonly name: string;
  readonly description: string;
  readonly pipeline_type: PipelineType;
  readonly type: PersonaType;
  readonly industry?: string;
  readonly key_differentiators?: readonly string[];
  readonly pains?: readonly string[];
};

export const PERSONA_NAME_MIN = 2;
export const PERSONA_NAME_MAX = 100;

const stringList = z.array(z.string().min(1)).max(100);

/** Validates a payload against Mavera's documented field types and the name's documented 2–100 length. */
export const maveraPersonaPayloadSchema = z.strictObject({
  name: z.string().min(PERSONA_NAME_MIN).max(PERSONA_NAME_MAX),
  description: z.string().min(1),
  pipeline_type: z.enum(['north_star', 'intermediate', 'advanced']),
  type: z.enum(['B2B', 'B2C']),
  industry: z.string().min(1).optional(),
  key_differentiators: stringList.optional(),
  pains: stringList.optional(),
});

/**
 * Fits a name into Mavera's 2–100 characters: whitespace collapsed, cut at a code-point boundary (never half a
 * surrogate pair) with an ellipsis, padded when shorter than 2.
 */
export function fitPersonaName(name: string): string {
  const clean = name.replace(/\s+/g, ' ').trim();
  if (clean.length > PERSONA_NAME_MAX) {
    let cut = '';
    for (const char of clean) {
      if (cut.length + char.length > PERSONA_NAME_MAX - 1) break;
      cut += char;
    }
    return `${cut.trimEnd()}…`;
  }
  if (clean.length < PERSONA_NAME_MIN) return `${clean} Persona`.trim();
  return clean;
}

import { z } from 'zod';
import { epochMsSchema, idSchema, segmentKeySchema } from './record-fields.js';

/**
 * schemas/persona-registry.avsc — the compacted segment → Mavera persona mapping (personas topic, keyed by
 * segment_key). `last_payload` and `last_summary` stay JSON text: the flusher parses them with its own schemas.
 */
export const personaRegistryEntrySchema = z.object({
  segment_key: segmentKeySchema,
  persona_id: idSchema,
  content_hash: z.string().min(1),
  last_sent_at: epochMsSchema,
  last_payload: z.string(),
  last_summary: z.string(),
});

export type PersonaRegistryEntry = z.output<typeof personaRegistryEntrySchema>;

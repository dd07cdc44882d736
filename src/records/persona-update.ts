import { z } from 'zod';
import { epochMsSchema, segmentKey, segmentKeySchema, segmentPartSchema } from './record-fields.js';

export const personaOperations = ['create', 'update', 'none'] as const;
export type PersonaOperation = (typeof personaOperations)[number];

export const personaUpdateStatuses = ['sent', 'dry_run', 'failed', 'retrying', 'dead_lettered'] as const;
export type PersonaUpdateStatus = (typeof personaUpdateStatuses)[number];

/** schemas/persona-update.avsc — the audit record of one Mavera call or dry-run decision (persona-updates topic). */
export const personaUpdateSchema = z
  .object({
    segment_key: segmentKeySchema,
    family: segmentPartSchema,
    segment: segmentPartSchema,
    operation: z.enum(personaOperations),
    status: z.enum(personaUpdateStatuses),
    persona_id: z.string().min(1).nullable().default(null),
    /** Hash of the persona payload this decision is about. */
    content_hash: z.string().min(1),
    http_status: z.int32().min(100).max(599).nullable().default(null),
    /** 1 for the first call; 0 when nothing was called (operation `none`, dry runs). */
    attempt: z.int32().nonnegative(),
    latency_ms: z.int().nonnegative().nullable().default(null),
    at: epochMsSchema,
    reasons: z.array(z.string()),
    error: z.string().nullable().default(null),
    request_body: z.string().nullable().default(null),
  })
  .superRefine((record, ctx) => {
    if (record.segment_key !== segmentKey(record.family, record.segment)) {
      ctx.addIssue({ code: 'custom', path: ['segment_key'], message: 'must equal family + "/" + segment' });
    }
  });

export type PersonaUpdate = z.output<typeof personaUpdateSchema>;

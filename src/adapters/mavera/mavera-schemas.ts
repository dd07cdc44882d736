import { z } from 'zod';

/**
 * Response bodies of the persona endpoints (reference §2). Objects are loose: Mavera may add fields, and only the
 * ones we use are checked. Where the pages disagree both forms are accepted (`created_at` in Unix seconds or ISO).
 */

const createdAtSchema = z.union([z.number(), z.string()]).nullable().optional();

/** An item of `GET /personas`: a base persona or one of the workspace's custom personas. */
export const maveraPersonaSchema = z.looseObject({
  id: z.string().min(1),
  object: z.string().optional(),
  name: z.string(),
  description: z.string().nullable().optional(),
  category: z.string().nullable().optional(),
  is_custom: z.boolean().optional(),
  created_at: createdAtSchema,
  /** Only in create/update answers per the reference; read when a list item carries it too. */
  details: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type MaveraPersona = z.output<typeof maveraPersonaSchema>;

/**
 * One page of `GET /personas`. The persona page documents a cursor but shows no next-page field; generations
 * document either `has_more` + `next_cursor` or `total/limit/offset/has_more`. Every one of those is optional here
 * and the client follows whichever the answer carries.
 */
export const maveraPersonaPageSchema = z.looseObject({
  object: z.literal('list').optional(),
  data: z.array(maveraPersonaSchema),
  has_more: z.boolean().optional(),
  next_cursor: z.string().nullable().optional(),
  total: z.int().nonnegative().optional(),
  limit: z.int().nonnegative().optional(),
  offset: z.int().nonnegative().optional(),
});
export type MaveraPersonaPage = z.output<typeof maveraPersonaPageSchema>;

/** The `custom_persona` object `POST /personas` and `PATCH /personas/{id}` answer with. */
export const maveraCustomPersonaSchema = z.looseObject({
  id: z.string().min(1),
  object: z.string().optional(),
  name: z.string(),
  is_custom: z.boolean().optional(),
  created_at: createdAtSchema,
  /** Documented as "credits charged for creation", on update answers too. */
  credits_charged: z.number().nonnegative().optional(),
  details: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type MaveraCustomPersona = z.output<typeof maveraCustomPersonaSchema>;

/** The error envelope of reference §4. */
export const maveraErrorBodySchema = z.object({
  error: z.looseObject({
    message: z.string(),
    type: z.string().nullable().optional(),
    code: z.string().nullable().optional(),
    param: z.string().nullable().optional(),
  }),
});

import { z } from 'zod';
import { normalizeCurrency } from '../money/currency.js';
import { defaultPersonaPolicy, personaPolicySchema } from '../personas/index.js';
import { defaultSegmentFamilies, segmentFamiliesSchema } from '../segments/index.js';
import { defaultTraitDefinitions, latenessDaysSchema, traitDefinitionsSchema } from '../traits/index.js';

const currencyCodeSchema = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'an ISO-4217 code such as usd')
  .transform(normalizeCurrency);

/**
 * The pipeline file (`PIPELINE_CONFIG`, YAML or JSON): what to compute, how to group it, when to tell Mavera.
 * Every section is optional; the defaults reproduce the seed scripts (revenue tiers, Segment CDP clusters) plus
 * payment geography. Unknown keys are rejected so that a typo never silently falls back to a default.
 */
export const pipelineConfigSchema = z
  .object({
    reporting_currency: currencyCodeSchema.default('usd'),
    /** Major units of the reporting currency per major unit of each currency: `{ eur: 1.1, gbp: 1.27 }`. */
    fx_rates: z
      .record(z.string().regex(/^[A-Za-z]{3}$/, 'an ISO-4217 code such as eur'), z.number().positive())
      .default({})
      .transform((rates) =>
        Object.fromEntries(Object.entries(rates).map(([code, rate]) => [normalizeCurrency(code), rate])),
      ),
    /** How late (in days, by event time) a duplicate or out-of-order Segment message is still recognised. */
    lateness_days: latenessDaysSchema,
    traits: traitDefinitionsSchema.default([...defaultTraitDefinitions]),
    segments: segmentFamiliesSchema.default([...defaultSegmentFamilies]),
    personas: personaPolicySchema.default(defaultPersonaPolicy),
  })
  .strict();

export type PipelineConfig = z.output<typeof pipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof pipelineConfigSchema>;

export class InvalidPipelineConfigError extends Error {
  constructor(readonly issues: readonly { readonly path: string; readonly message: string }[]) {
    super(
      `invalid pipeline config:\n${issues.map((issue) => `  ${issue.path || '(root)'}: ${issue.message}`).join('\n')}`,
    );
    this.name = 'InvalidPipelineConfigError';
  }
}

export function parsePipelineConfig(input: unknown): PipelineConfig {
  const result = pipelineConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new InvalidPipelineConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}

export const defaultPipelineConfig: PipelineConfig = parsePipelineConfig({});

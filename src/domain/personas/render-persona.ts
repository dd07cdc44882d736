import type { PersonaTemplateName, SegmentFamily } from '../segments/segment-family.js';
import type { SegmentSummary } from '../segments/segment-summary.js';
import { MAX_ARRAY_ITEMS } from './mavera-shape.js';
import { fitPersonaName, type MaveraPersonaPayload } from './mavera-payload.js';
import type { PersonaContent, PersonaTemplate } from './persona-content.js';
import type { PersonaPolicy } from './persona-policy.js';
import { cdpClusterTemplate } from './templates/cdp-cluster.js';
import { genericTemplate } from './templates/generic.js';
import { paymentGeographyTemplate } from './templates/payment-geography.js';
import { revenueTierTemplate } from './templates/revenue-tier.js';

const TEMPLATES: Readonly<Record<PersonaTemplateName, PersonaTemplate>> = {
  revenue_tier: revenueTierTemplate,
  cdp_cluster: cdpClusterTemplate,
  payment_geography: paymentGeographyTemplate,
  generic: genericTemplate,
};

function fitList(items: readonly string[]): readonly string[] {
  return items.filter((item) => item !== '').slice(0, MAX_ARRAY_ITEMS);
}

function toPayload(content: PersonaContent, family: SegmentFamily): MaveraPersonaPayload {
  const keyDifferentiators = fitList(content.keyDifferentiators);
  const pains = fitList(content.pains);
  return {
    name: fitPersonaName(content.name),
    description: content.description,
    pipeline_type: family.persona.pipeline_type,
    type: family.persona.type,
    ...(content.industry === undefined || content.industry === '' ? {} : { industry: content.industry }),
    ...(keyDifferentiators.length === 0 ? {} : { key_differentiators: keyDifferentiators }),
    ...(pains.length === 0 ? {} : { pains }),
  };
}

/**
 * The persona payload for a segment summary through its family's template, or null when the segment is
 * smaller than `min_segment_size` (no persona for it). Deterministic: equal summaries give equal payloads.
 */
export function renderPersona(
  family: SegmentFamily,
  summary: SegmentSummary,
  policy: PersonaPolicy,
): MaveraPersonaPayload | null {
  if (summary.count < policy.min_segment_size) return null;
  return toPayload(TEMPLATES[family.persona.template](summary, family), family);
}

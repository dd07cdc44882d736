import { formatPython } from '../format-python.js';
import type { PersonaTemplate } from '../persona-content.js';
import { averageOr0, topLine } from '../persona-content.js';

/** Seed 002's psychographic engagement tier, derived from the cluster's average LTV. */
function engagementTier(avgLtv: number): string {
  return avgLtv > 500 ? 'high' : avgLtv > 100 ? 'medium' : 'low';
}

/**
 * Seed 002: name `Segment CDP: {Label}` and its description f-string, character for character. Averages come
 * from the summary (see defaultSegmentFamilies for which fields count missing values as 0). When no member has
 * a churn risk the seed would print "0%"; this prints "n/a" rather than claim no risk.
 */
export const cdpClusterTemplate: PersonaTemplate = (summary) => {
  const avgLtv = averageOr0(summary, 'ltv');
  const churn = summary.averages['churn_risk'];
  const ltvText = `$${formatPython(avgLtv, '.0f')}`;
  const purchasesText = formatPython(averageOr0(summary, 'purchase_count'), '.1f');
  const churnText = churn === undefined || churn === null ? 'n/a' : formatPython(churn, '.0%');
  const industries = summary.top['industry'] ?? [];
  const plans = summary.top['plan'] ?? [];
  const label = summary.label;
  return {
    name: `Segment CDP: ${label}`,
    description:
      `${label} segment from Segment computed traits. N=${summary.count}. ` +
      `Avg LTV: ${ltvText}. Avg purchases: ${purchasesText}. ` +
      `Avg churn risk: ${churnText}. ` +
      `Industries: ${industries.join(', ')}. ` +
      `Plans: ${plans.join(', ')}.`,
    ...(industries[0] === undefined ? {} : { industry: industries[0] }),
    keyDifferentiators: [
      `Cluster: ${summary.segment}`,
      `Users: ${summary.count}`,
      `Avg LTV: ${ltvText}`,
      `Avg purchases: ${purchasesText}`,
      `Avg churn risk: ${churnText}`,
      `Engagement tier: ${engagementTier(avgLtv)}`,
      ...topLine(summary, 'industry', 'Industries'),
      ...topLine(summary, 'plan', 'Plans'),
    ],
    pains: [],
  };
};

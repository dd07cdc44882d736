import type { PersonaTemplate } from '../persona-content.js';
import { averageOr0, billingRiskPains, formatMoney, topLine } from '../persona-content.js';

/**
 * Seed 000: name `f"{tier_name.replace('_', ' ').title()} Customer"` (the label, which defaults to exactly that),
 * description `f"Revenue tier: {tier_name}. {n} customers, avg MRR ${avg_mrr:,.0f}."`.
 */
export const revenueTierTemplate: PersonaTemplate = (summary) => {
  const avgMrr = formatMoney(averageOr0(summary, 'mrr'), summary);
  return {
    name: `${summary.label} Customer`,
    description: `Revenue tier: ${summary.segment}. ${summary.count} customers, avg MRR ${avgMrr}.`,
    keyDifferentiators: [
      `Revenue tier: ${summary.segment}`,
      `Customers: ${summary.count}`,
      `Avg MRR: ${avgMrr}`,
      ...topLine(summary, 'country', 'Top countries'),
    ],
    pains: billingRiskPains(summary),
  };
};

import type { PersonaTemplate } from '../persona-content.js';
import { averageOr0, billingRiskPains, formatMoney, topLine } from '../persona-content.js';

/** In the revenue-tier style: "EMEA Customers", "Region: EMEA. 12 paying customers, avg MRR $1,234." */
export const paymentGeographyTemplate: PersonaTemplate = (summary) => {
  const avgMrr = formatMoney(averageOr0(summary, 'mrr'), summary);
  return {
    name: `${summary.label} Customers`,
    description: `Region: ${summary.segment}. ${summary.count} paying customers, avg MRR ${avgMrr}.`,
    keyDifferentiators: [
      `Region: ${summary.segment}`,
      `Paying customers: ${summary.count}`,
      `Avg MRR: ${avgMrr}`,
      ...topLine(summary, 'country', 'Top countries'),
    ],
    pains: billingRiskPains(summary),
  };
};

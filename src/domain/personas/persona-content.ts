import type { SegmentFamily } from '../segments/segment-family.js';
import type { SegmentSummary } from '../segments/segment-summary.js';
import { formatPython } from './format-python.js';

/**
 * What a template says about a segment, before it is fitted into Mavera's documented fields.
 *
 * Mapping of the seeds' undocumented objects onto documented fields (reference/mavera-api.md §2.3), chosen
 * because Mavera does not promise to store `attributes`/`demographic`/`psychographic`:
 * - the facts (seed 000 `attributes`: tier, customer count, avg MRR; seed 002 `psychographic`: cluster, avg
 *   LTV, avg churn risk, engagement tier; `demographic`: industries, plans) → `key_differentiators`, one short
 *   "Label: value" string each: it is the field for what sets this persona apart from the others;
 * - the top industry → `industry` (a single string in Mavera's details);
 * - billing risk signals (share past due, scheduled to cancel, delinquent) → `pains`;
 * - sample ids are NOT sent: customer ids say nothing about a persona, and they would change the payload
 *   whenever membership changes; they stay in the summary for the audit trail;
 * - `goals` and `triggers` are left out: nothing in revenue or trait data says what a segment wants, and
 *   invented text would be sent as if it were data.
 */
export interface PersonaContent {
  readonly name: string;
  readonly description: string;
  readonly industry?: string;
  readonly keyDifferentiators: readonly string[];
  readonly pains: readonly string[];
}

export type PersonaTemplate = (summary: SegmentSummary, family: SegmentFamily) => PersonaContent;

const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = { usd: '$', eur: '€', gbp: '£', jpy: '¥', inr: '₹' };

/**
 * Money as the seeds print it (`${avg:,.0f}`), in the segment's reporting currency when the summary ranks
 * `reporting_currency` (others get their code as prefix, e.g. "CHF 1,200"); dollars otherwise, as the seeds.
 */
export function formatMoney(amount: number, summary: SegmentSummary): string {
  const currency = summary.top['reporting_currency']?.[0]?.toLowerCase();
  const symbol = currency === undefined ? '$' : (CURRENCY_SYMBOLS[currency] ?? `${currency.toUpperCase()} `);
  return `${symbol}${formatPython(amount, ',.0f')}`;
}

/** Average of a summary field, or 0 when no member has it (the seeds' "if customers else 0"). */
export function averageOr0(summary: SegmentSummary, field: string): number {
  return summary.averages[field] ?? 0;
}

const RISK_SHARES: readonly (readonly [field: string, text: string])[] = [
  ['past_due', 'of customers have a past-due invoice'],
  ['scheduled_churn', 'of customers have scheduled a cancellation'],
  ['delinquent', 'of customers are delinquent'],
];

/** "12% of customers have a past-due invoice" for each billing-risk share the summary has and that shows as > 0%. */
export function billingRiskPains(summary: SegmentSummary): string[] {
  const out: string[] = [];
  for (const [field, text] of RISK_SHARES) {
    const share = summary.averages[field];
    if (share === undefined || share === null) continue;
    const percent = formatPython(share, '.0%');
    if (percent !== '0%') out.push(`${percent} ${text}`);
  }
  return out;
}

/** "Top countries: US, GB, DE" when the summary ranks `field` and has values for it. */
export function topLine(summary: SegmentSummary, field: string, label: string): string[] {
  const values = summary.top[field];
  return values === undefined || values.length === 0 ? [] : [`${label}: ${values.join(', ')}`];
}

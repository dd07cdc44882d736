import type { JsonObject } from '../segment/model.js';
import type { SegmentSummary } from '../segments/segment-summary.js';
import { canonicalJson, contentHash } from './canonical-json.js';
import type { MaveraPersonaPayload } from './mavera-payload.js';
import type { PersonaPolicy } from './persona-policy.js';

export interface PersonaVersion {
  readonly payload: MaveraPersonaPayload;
  readonly summary: SegmentSummary;
}

export interface PersonaUpdateDecision {
  readonly action: 'create' | 'update' | 'none';
  /** Why, for the audit topic and logs. */
  readonly reasons: readonly string[];
  /** contentHash of the next payload: what the registry stores as "last sent" after a create or update. */
  readonly hash: string;
}

/** "$28,450", "N=34", "5%", "8.0" all become "#": numbers are judged by the thresholds, not as text. */
const NUMBER_RUN = /\d(?:[\d,.]*\d)?/g;

function maskNumbers(text: string): string {
  return text.replace(NUMBER_RUN, '#');
}

function sortedUnion(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function textChanges(last: MaveraPersonaPayload, next: MaveraPersonaPayload): string[] {
  const reasons: string[] = [];
  const lastFields: JsonObject = last;
  const nextFields: JsonObject = next;
  for (const field of sortedUnion(last, next)) {
    const before = maskNumbers(canonicalJson(lastFields[field]));
    const after = maskNumbers(canonicalJson(nextFields[field]));
    if (before !== after) reasons.push(`${field} changed`);
  }
  return reasons;
}

function topChanges(last: SegmentSummary, next: SegmentSummary): string[] {
  const reasons: string[] = [];
  for (const field of sortedUnion(last.top, next.top)) {
    const before = last.top[field] ?? [];
    const after = next.top[field] ?? [];
    if (before.length !== after.length || before.some((value, i) => value !== after[i])) {
      reasons.push(`top ${field} changed: [${before.join(', ')}] → [${after.join(', ')}]`);
    }
  }
  return reasons;
}

/** |next − last| / |last|; a move away from 0 is infinitely large, staying at 0 is none. */
function relativeChange(last: number, next: number): number {
  if (last === 0) return next === 0 ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(next - last) / Math.abs(last);
}

function show(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function countChange(last: SegmentSummary, next: SegmentSummary, policy: PersonaPolicy): string[] {
  const delta = Math.abs(next.count - last.count);
  if (delta === 0 || delta < policy.min_count_change) return [];
  if (relativeChange(last.count, next.count) <= policy.count_change_ratio) return [];
  return [`count ${last.count} → ${next.count}`];
}

function averageChanges(last: SegmentSummary, next: SegmentSummary, policy: PersonaPolicy): string[] {
  const reasons: string[] = [];
  for (const field of sortedUnion(last.averages, next.averages)) {
    const before = last.averages[field] ?? null;
    const after = next.averages[field] ?? null;
    if (before === null && after === null) continue;
    if (before === null || after === null) {
      reasons.push(`average ${field} ${before === null ? 'appeared' : 'disappeared'}`);
    } else if (relativeChange(before, after) > policy.average_change_ratio) {
      reasons.push(`average ${field} ${show(before)} → ${show(after)}`);
    }
  }
  return reasons;
}

/**
 * Whether the persona for a segment must be created, updated, or left alone, comparing `next` with what was
 * LAST SENT (so slow drift adds up until it crosses a threshold):
 * - create when nothing was sent yet;
 * - none when the payload is byte-for-byte what was sent (nothing to send);
 * - update when any payload text changed other than its numbers (digit runs masked), when a top-3 list
 *   changed, when the count moved by more than `count_change_ratio` and at least `min_count_change`, or when
 *   an average moved by more than `average_change_ratio` of its sent value or appeared/disappeared;
 * - otherwise none. Sample ids alone never cause an update: they churn with membership and are not sent.
 */
export function decidePersonaUpdate(
  last: PersonaVersion | undefined,
  next: PersonaVersion,
  policy: PersonaPolicy,
): PersonaUpdateDecision {
  const hash = contentHash(next.payload);
  if (last === undefined) return { action: 'create', reasons: ['no persona sent yet'], hash };
  if (contentHash(last.payload) === hash) return { action: 'none', reasons: ['payload unchanged'], hash };
  const reasons = [
    ...textChanges(last.payload, next.payload),
    ...topChanges(last.summary, next.summary),
    ...countChange(last.summary, next.summary, policy),
    ...averageChanges(last.summary, next.summary, policy),
  ];
  if (reasons.length === 0) return { action: 'none', reasons: ['changes within thresholds'], hash };
  return { action: 'update', reasons, hash };
}

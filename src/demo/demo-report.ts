import { formatDryRunDiff } from '../flusher/dry-run-diff.js';
import type { Profile } from '../domain/profile/model.js';
import type { SegmentSummary } from '../domain/segments/segment-summary.js';
import type { PersonaUpdate } from '../records/persona-update.js';

/** Headings of the report's sections, in order (tests and users look for them). */
export const REPORT_SECTIONS = {
  events: '== Events in',
  profiles: '== Profiles',
  segments: '== Segments',
  personas: '== Personas',
} as const;

export interface DemoReport {
  readonly seconds: number;
  readonly input: {
    readonly stripeWebhooks: number;
    readonly segmentMessages: number;
    readonly segmentBatches: number;
    /** Closing events (one per partition) among the Stripe webhooks. */
    readonly closingEvents: number;
    readonly closingAt: number;
  };
  /** Records on the event topics at the end. */
  readonly topics: { readonly stripeEvents: number; readonly segmentEvents: number };
  readonly processor: {
    readonly records: number;
    readonly deadLetters: number;
    /** Event-time watermark of each partition at the end. */
    readonly watermarks: ReadonlyMap<number, number>;
  };
  readonly profiles: readonly Profile[];
  /** How many of the profiles are the closing events' synthetic customers. */
  readonly clockProfiles: number;
  readonly summaries: readonly SegmentSummary[];
  readonly flushes: number;
  readonly personas: {
    readonly dryRun: boolean;
    /** The flusher's audit records behind the final state of every persona (see selectFinalAudit). */
    readonly records: readonly PersonaUpdate[];
  };
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** 12,345.68: grouped, at most two decimals. */
function num(value: number): string {
  return NUMBER.format(value);
}

function iso(at: number): string {
  return new Date(at).toISOString();
}

/** The demo's closing printout: events in, profiles, per-segment summaries, and every persona create/update. */
export function demoReportText(report: DemoReport): string {
  const out: string[] = [];
  const { input, topics, processor } = report;
  out.push(
    REPORT_SECTIONS.events,
    `  Stripe webhooks accepted   ${num(input.stripeWebhooks)} (${num(input.closingEvents)} of them closing ` +
      `events, one per partition, at ${iso(input.closingAt)})`,
    `  Segment messages accepted  ${num(input.segmentMessages)} in ${num(input.segmentBatches)} Tracking API batch${input.segmentBatches === 1 ? '' : 'es'}`,
    `  on the event topics        stripe.events ${num(topics.stripeEvents)}, segment.events ${num(topics.segmentEvents)}`,
    `  processed                  ${num(processor.records)} records, ${num(processor.deadLetters)} dead-lettered`,
    '',
  );

  const customers = report.profiles.filter((profile) => profile.kind === 'customer');
  const users = report.profiles.filter((profile) => profile.kind === 'user');
  out.push(
    `${REPORT_SECTIONS.profiles}: ${num(report.profiles.length)} (${num(customers.length)} customers, ` +
      `${num(users.length)} users)`,
    `  judged at                  ${judgedAt(processor.watermarks)}`,
    `  customers by status        ${tally(customers, 'revenue_status')}` +
      (report.clockProfiles > 0
        ? ` (${num(report.clockProfiles)} of the leads are the closing events' customers)`
        : ''),
    `  users by engagement        ${tally(users, 'engagement_tier')}`,
    '',
  );

  out.push(`${REPORT_SECTIONS.segments}: ${num(report.summaries.length)}`);
  const width = Math.max(24, ...report.summaries.map((summary) => `${summary.family}/${summary.segment}`.length));
  out.push(`  ${'segment'.padEnd(width)}  ${'members'.padStart(7)}  averages`);
  for (const summary of report.summaries) {
    const averages = Object.entries(summary.averages)
      .filter((entry): entry is [string, number] => entry[1] !== null)
      .map(([field, value]) => `${field} ${num(value)}`)
      .join(', ');
    out.push(
      `  ${`${summary.family}/${summary.segment}`.padEnd(width)}  ${num(summary.count).padStart(7)}  ${averages}`.trimEnd(),
    );
  }
  out.push('');

  const { dryRun, records } = report.personas;
  out.push(
    dryRun
      ? `${REPORT_SECTIONS.personas} the flusher would send to Mavera: ${num(records.length)} (dry run, nothing ` +
          `was sent; ${num(report.flushes)} flushes)`
      : `${REPORT_SECTIONS.personas} sent to Mavera: ${num(records.length)} (${num(report.flushes)} flushes)`,
  );
  out.push(dryRun ? formatDryRunDiff(records).trimEnd() : records.map(describeSent).join('\n') || 'no changes');
  out.push('', `demo: done in ${report.seconds.toFixed(1)} s`);
  return `${out.join('\n')}\n`;
}

/**
 * The audit records that say what each persona is now: for every given segment (a dry run: those the final flush
 * would still create or update; otherwise every segment it decided on), the newest record written since `since` (a
 * dry run reports a request once and then counts it `unchanged`, so the newest is the one standing), in the given
 * order.
 */
export function selectFinalAudit(
  segmentKeys: readonly string[],
  records: readonly PersonaUpdate[],
  options: { readonly dryRun: boolean; readonly since: number },
): PersonaUpdate[] {
  const newest = new Map<string, PersonaUpdate>();
  for (const record of records) {
    const relevant = options.dryRun ? record.status === 'dry_run' : record.status === 'sent';
    if (relevant && record.operation !== 'none' && record.at >= options.since) newest.set(record.segment_key, record);
  }
  const selected: PersonaUpdate[] = [];
  for (const key of segmentKeys) {
    const record = newest.get(key);
    if (record !== undefined) selected.push(record);
  }
  return selected;
}

function describeSent(record: PersonaUpdate): string {
  const status = record.http_status === null ? '' : ` (HTTP ${String(record.http_status)})`;
  return `${record.operation} ${record.segment_key} → ${record.persona_id ?? '?'}${status}`;
}

/** The event time profiles were derived at: each partition's watermark (one instant, thanks to the closing events). */
function judgedAt(watermarks: ReadonlyMap<number, number>): string {
  const instants = [...new Set(watermarks.values())].filter(Number.isFinite).sort((a, b) => a - b);
  const first = instants[0];
  const last = instants[instants.length - 1];
  if (first === undefined || last === undefined) return '-';
  const partitions = `${String(watermarks.size)} partition${watermarks.size === 1 ? '' : 's'}`;
  return first === last
    ? `${iso(first)} (the watermark of all ${partitions})`
    : `${iso(first)} … ${iso(last)} (watermarks of ${partitions})`;
}

function tally(profiles: readonly Profile[], field: string): string {
  const counts = new Map<string, number>();
  for (const profile of profiles) {
    const value = profile.fields[field];
    const label = value === undefined || value === null ? 'none' : String(value);
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return (
    [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([label, value]) => `${label} ${num(value)}`)
      .join(', ') || '-'
  );
}

import type { OfflineRunResult } from '../../domain/pipeline/offline-run.js';
import type { FieldValue, Profile } from '../../domain/profile/model.js';

export interface InputStats {
  readonly lines: number;
  readonly inputs: number;
  readonly ignored: number;
  readonly errors: readonly { readonly line: number; readonly reason: string }[];
}

const PROFILE_ROWS = 20;
const USER_FIELDS = ['ltv', 'purchase_count', 'churn_risk', 'engagement_tier', 'plan', 'industry'] as const;

/** The machine-readable result of an offline run (`--json`). */
export function offlineReportJson(result: OfflineRunResult, stats: InputStats): string {
  return `${JSON.stringify(
    {
      at: result.at,
      atIso: new Date(result.at).toISOString(),
      input: { lines: stats.lines, inputs: stats.inputs, applied: result.applied, ignored: stats.ignored },
      errors: stats.errors,
      profiles: result.profiles,
      summaries: result.summaries,
      personas: result.personas,
    },
    null,
    2,
  )}\n`;
}

/** The human-readable result of an offline run. */
export function offlineReportText(result: OfflineRunResult, stats: InputStats): string {
  const out: string[] = [];
  out.push(
    `${stats.lines} lines, ${stats.inputs} events (${result.applied} changed state, ${stats.ignored} ignored types), ` +
      `${stats.errors.length} rejected; evaluated at ${new Date(result.at).toISOString()}`,
  );
  const customers = result.profiles.filter((profile) => profile.kind === 'customer').length;
  out.push(
    '',
    `Profiles: ${result.profiles.length} (${customers} customers, ${result.profiles.length - customers} users)`,
  );
  for (const profile of result.profiles.slice(0, PROFILE_ROWS)) out.push(`  ${describeProfile(profile)}`);
  if (result.profiles.length > PROFILE_ROWS) {
    out.push(`  … ${result.profiles.length - PROFILE_ROWS} more (--json prints every profile)`);
  }

  out.push('', 'Segments');
  for (const summary of result.summaries) {
    const averages = Object.entries(summary.averages)
      .filter(([, value]) => value !== null)
      .map(([field, value]) => `avg ${field} ${formatNumber(value as number)}`)
      .join(', ');
    out.push(
      `  ${`${summary.family}/${summary.segment}`.padEnd(32)} ${String(summary.count).padStart(7)}  ${averages}`,
    );
  }

  out.push('', `Personas that would be sent to Mavera (${result.personas.length})`);
  for (const persona of result.personas) {
    out.push(`  [${persona.decision.action}] ${persona.family}/${persona.segment}: "${persona.payload.name}"`);
    if (typeof persona.payload.description === 'string') out.push(`      ${persona.payload.description}`);
  }
  if (stats.errors.length > 0) {
    out.push('', `Rejected input (${stats.errors.length})`);
    for (const error of stats.errors.slice(0, PROFILE_ROWS)) out.push(`  line ${error.line}: ${error.reason}`);
    if (stats.errors.length > PROFILE_ROWS) out.push(`  … ${stats.errors.length - PROFILE_ROWS} more`);
  }
  return `${out.join('\n')}\n`;
}

function describeProfile(profile: Profile): string {
  const fields = profile.fields;
  if (profile.kind === 'customer') {
    const currency = String(fields['reporting_currency'] ?? '');
    return `${profile.key.padEnd(30)} mrr ${formatNumber(fields['mrr'])} ${currency}  ${String(fields['revenue_status'])}  region ${String(fields['region'] ?? '-')}`;
  }
  const parts = USER_FIELDS.filter((name) => fields[name] !== undefined && fields[name] !== null).map(
    (name) => `${name} ${formatValue(fields[name] ?? null)}`,
  );
  return `${profile.key.padEnd(30)} ${parts.join('  ')}`;
}

function formatValue(value: FieldValue): string {
  if (typeof value === 'number') return formatNumber(value);
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

function formatNumber(value: FieldValue | undefined): string {
  if (typeof value !== 'number') return String(value ?? '-');
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

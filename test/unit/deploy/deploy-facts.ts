import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { envVariableNames } from '../../../src/config/env.js';

/** What the container, compose and Helm tests hold the deployment files to. */

export const ROLES = ['stripe-connector', 'segment-connector', 'processor', 'flusher'] as const;
export type Role = (typeof ROLES)[number];

export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../../${relative}`, import.meta.url));
}

export function readRepoFile(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

/**
 * Every variable persona-stream reads: the configuration table (src/config/env.ts, the design's list) and the ones the
 * roles read outside it (processor state and static membership, drain time, the Profile API base URL).
 */
export const PERSONA_STREAM_ENV: ReadonlySet<string> = new Set([
  ...envVariableNames,
  'STATE_DIR',
  'SHUTDOWN_GRACE_MS',
  'KAFKA_GROUP_INSTANCE_ID',
  'SEGMENT_PROFILE_API_URL',
]);

/** The persona_stream_* metrics the roles export (the names dashboards and alerts may use). */
export const PERSONA_STREAM_METRICS: ReadonlySet<string> = new Set([
  'persona_stream_consumergroup_group_lag',
  'persona_stream_consumergroup_group_lag_seconds',
  'persona_stream_dlq_records_total',
  'persona_stream_mavera_requests_total',
  'persona_stream_mavera_retries_total',
  'persona_stream_mavera_rate_limited_total',
  'persona_stream_flusher_active',
  'persona_stream_flush_runs_total',
  'persona_stream_flush_decisions_total',
  'persona_stream_records_consumed_total',
  'persona_stream_records_produced_total',
  'persona_stream_processing_duration_seconds',
  'persona_stream_state_entries',
  'persona_stream_restore_duration_seconds',
  'persona_stream_watermark_seconds',
  'persona_stream_webhook_requests_total',
  'persona_stream_profiles_changed_total',
  'persona_stream_mavera_credits_spent_total',
  'persona_stream_build_info',
]);

const HISTOGRAMS: ReadonlySet<string> = new Set([
  'persona_stream_processing_duration_seconds',
  'persona_stream_restore_duration_seconds',
]);

/** The persona_stream_* metric families a PromQL expression reads (a histogram's _bucket/_sum/_count → its family). */
export function metricFamiliesIn(expr: string): string[] {
  return [...expr.matchAll(/persona_stream_[a-z0-9_]+/g)].map(([name]) => {
    const family = name.replace(/_(bucket|sum|count)$/, '');
    return HISTOGRAMS.has(family) ? family : name;
  });
}

/** Compose-style `${VAR:-default}` → the default, as `docker compose` resolves it with VAR unset. */
export function composeDefault(value: string): string {
  return value.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
}

/** Whether a command answers on PATH (for the branches that run real tools where they exist). */
export function toolAvailable(command: string, args: readonly string[]): boolean {
  const probe = spawnSync(command, [...args], { encoding: 'utf8', timeout: 20_000 });
  return probe.error === undefined && probe.status === 0;
}

import type { Metrics } from '../../../src/adapters/metrics/metrics.js';

/** Every persona_stream_* family with its type and label names (histogram `le` excluded), as the README lists them. */
export const EXPECTED_FAMILIES: Readonly<Record<string, { type: string; labels: readonly string[] }>> = {
  persona_stream_records_consumed_total: { type: 'counter', labels: ['topic'] },
  persona_stream_records_produced_total: { type: 'counter', labels: ['topic'] },
  persona_stream_processing_duration_seconds: { type: 'histogram', labels: ['role'] },
  persona_stream_consumergroup_group_lag: { type: 'gauge', labels: ['group', 'topic', 'partition'] },
  persona_stream_consumergroup_group_lag_seconds: { type: 'gauge', labels: ['group', 'topic', 'partition'] },
  persona_stream_state_entries: { type: 'gauge', labels: ['partition'] },
  persona_stream_state_bytes: { type: 'gauge', labels: ['partition'] },
  persona_stream_restore_duration_seconds: { type: 'histogram', labels: [] },
  persona_stream_restored_records_total: { type: 'counter', labels: [] },
  persona_stream_watermark_seconds: { type: 'gauge', labels: ['partition'] },
  persona_stream_dlq_records_total: { type: 'counter', labels: ['reason'] },
  persona_stream_webhook_requests_total: { type: 'counter', labels: ['route', 'result'] },
  persona_stream_webhook_request_duration_seconds: { type: 'histogram', labels: ['route'] },
  persona_stream_profiles_changed_total: { type: 'counter', labels: ['kind'] },
  persona_stream_flush_runs_total: { type: 'counter', labels: ['result'] },
  persona_stream_flush_decisions_total: { type: 'counter', labels: ['decision'] },
  persona_stream_mavera_requests_total: { type: 'counter', labels: ['endpoint', 'status'] },
  persona_stream_mavera_request_duration_seconds: { type: 'histogram', labels: ['endpoint'] },
  persona_stream_mavera_retries_total: { type: 'counter', labels: ['endpoint'] },
  persona_stream_mavera_rate_limited_total: { type: 'counter', labels: [] },
  persona_stream_mavera_credits_spent_total: { type: 'counter', labels: [] },
  persona_stream_flusher_active: { type: 'gauge', labels: [] },
  persona_stream_build_info: { type: 'gauge', labels: ['version', 'node_version'] },
};

/** Puts a realistic value into every metric, so every family has at least one sample in the scrape. */
export function fillEveryMetric(metrics: Metrics): void {
  const topic = 'persona-stream.stripe.events';
  metrics.recordsConsumed.inc({ topic }, 2_000);
  metrics.recordsProduced.inc({ topic: 'persona-stream.profiles' }, 1_800);
  metrics.processingDuration.observe({ role: 'processor' }, 0.042);
  metrics.consumerGroupLag.set({ group: 'persona-stream.processor', topic, partition: 3 }, 1_250);
  metrics.consumerGroupLagSeconds.set({ group: 'persona-stream.processor', topic, partition: 3 }, 4.5);
  metrics.stateEntries.set({ partition: 3 }, 81_234);
  metrics.stateBytes.set({ partition: 3 }, 52_000_000);
  metrics.restoreDuration.observe(12.5);
  metrics.restoredRecords.inc(81_234);
  metrics.watermark.set({ partition: 3 }, 1_735_689_600);
  metrics.dlqRecords.inc({ reason: 'invalid_payload' });
  metrics.webhookRequests.inc({ route: '/webhooks/stripe', result: 'accepted' });
  metrics.webhookRequestDuration.observe({ route: '/webhooks/stripe' }, 0.012);
  metrics.profilesChanged.inc({ kind: 'customer' }, 17);
  metrics.flushRuns.inc({ result: 'ok' });
  metrics.flushDecisions.inc({ decision: 'updated' }, 2);
  metrics.maveraRequests.inc({ endpoint: 'personas.update', status: 200 });
  metrics.maveraRequestDuration.observe({ endpoint: 'personas.update' }, 0.38);
  metrics.maveraRetries.inc({ endpoint: 'personas.update' });
  metrics.maveraRateLimited.inc();
  metrics.maveraCreditsSpent.inc(300);
  metrics.flusherActive.set(1);
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text scrape (comments skipped). */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]!] = label[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** `# TYPE` lines: family name → type. */
export function familyTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1]!, match[2]!);
  return types;
}

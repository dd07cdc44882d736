import { describe, expect, it } from 'vitest';
import { OVERFLOW_LABEL_VALUE } from '../../../src/adapters/metrics/instruments.js';
import { createMetrics, DROPPED_DEFAULT_METRICS, LABEL_LIMITS } from '../../../src/adapters/metrics/metrics.js';
import { packageVersion } from '../../../src/adapters/metrics/package-version.js';
import { EXPECTED_FAMILIES, familyTypes, fillEveryMetric, parseSamples } from './sample-metrics.js';

/** The family a sample belongs to: histogram series carry _bucket/_sum/_count suffixes. */
function familyOf(sample: string, families: ReadonlyMap<string, string>): string {
  if (families.has(sample)) return sample;
  const base = sample.replace(/_(bucket|sum|count)$/, '');
  if (families.get(base) === 'histogram') return base;
  throw new Error(`sample ${sample} belongs to no declared family`);
}

describe('createMetrics', () => {
  it('exposes exactly the persona_stream_* families, with their types and label names', async () => {
    const metrics = createMetrics({ version: '1.2.3', nodeVersion: 'v20.0.0' });
    fillEveryMetric(metrics);
    const text = await metrics.text();
    const families = familyTypes(text);

    const ours = [...families].filter(([name]) => name.startsWith('persona_stream_'));
    expect(Object.fromEntries(ours)).toEqual(
      Object.fromEntries(Object.entries(EXPECTED_FAMILIES).map(([name, family]) => [name, family.type])),
    );

    const labelsByFamily = new Map<string, Set<string>>();
    for (const sample of parseSamples(text)) {
      const family = familyOf(sample.name, families);
      const names = labelsByFamily.get(family) ?? new Set<string>();
      for (const label of Object.keys(sample.labels)) if (label !== 'le') names.add(label);
      labelsByFamily.set(family, names);
    }
    for (const [name, expected] of Object.entries(EXPECTED_FAMILIES)) {
      expect([...(labelsByFamily.get(name) ?? [])].sort(), name).toEqual([...expected.labels].sort());
    }
  });

  it('keeps default Node/process metrics under their standard names and nothing else unprefixed', async () => {
    const text = await createMetrics({ version: '1.2.3' }).text();
    const names = [...familyTypes(text).keys()];
    for (const name of names) expect(name).toMatch(/^(persona_stream_|process_|nodejs_)/);
    expect(names).toContain('process_cpu_seconds_total');
    expect(names).toContain('process_resident_memory_bytes');
    expect(names).toContain('nodejs_heap_size_used_bytes');
    expect(names).toContain('nodejs_eventloop_lag_p99_seconds');
    for (const dropped of DROPPED_DEFAULT_METRICS) expect(names).not.toContain(dropped);
  });

  it('can leave the default metrics out', async () => {
    const names = [...familyTypes(await createMetrics({ version: '1.2.3', defaultMetrics: false }).text()).keys()];
    expect(names.filter((name) => !name.startsWith('persona_stream_'))).toEqual([]);
  });

  it('reports build_info = 1 with the package and Node versions', async () => {
    const metrics = createMetrics();
    const [info] = parseSamples(await metrics.text()).filter((sample) => sample.name === 'persona_stream_build_info');
    expect(info).toEqual({
      name: 'persona_stream_build_info',
      labels: { version: packageVersion(), node_version: process.version },
      value: 1,
    });
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('counts per label set and starts every flush decision at 0', async () => {
    const metrics = createMetrics({ version: '1.2.3', defaultMetrics: false });
    metrics.recordsConsumed.inc({ topic: 'a' }, 2_000);
    metrics.recordsConsumed.inc({ topic: 'a' }, 500);
    metrics.recordsConsumed.inc({ topic: 'b' });
    metrics.flushDecisions.inc({ decision: 'created' });
    const samples = parseSamples(await metrics.text());
    const values = (name: string) =>
      samples.filter((sample) => sample.name === name).map((sample) => [sample.labels, sample.value]);
    expect(values('persona_stream_records_consumed_total')).toEqual([
      [{ topic: 'a' }, 2_500],
      [{ topic: 'b' }, 1],
    ]);
    expect(values('persona_stream_flush_decisions_total')).toEqual([
      [{ decision: 'created' }, 1],
      [{ decision: 'updated' }, 0],
      [{ decision: 'unchanged' }, 0],
      [{ decision: 'failed' }, 0],
    ]);
  });

  it('histograms observe seconds into the declared buckets', async () => {
    const metrics = createMetrics({ version: '1.2.3', defaultMetrics: false });
    metrics.processingDuration.observe({ role: 'processor' }, 0.003);
    metrics.processingDuration.observe({ role: 'processor' }, 0.2);
    const samples = parseSamples(await metrics.text()).filter((sample) =>
      sample.name.startsWith('persona_stream_processing_duration_seconds'),
    );
    const bucket = (le: string) =>
      samples.find((sample) => sample.name.endsWith('_bucket') && sample.labels['le'] === le)?.value;
    expect(bucket('0.0025')).toBe(0);
    expect(bucket('0.005')).toBe(1);
    expect(bucket('0.25')).toBe(2);
    expect(bucket('+Inf')).toBe(2);
    expect(samples.find((sample) => sample.name.endsWith('_count'))?.value).toBe(2);
    expect(samples.find((sample) => sample.name.endsWith('_sum'))?.value).toBeCloseTo(0.203, 10);
  });

  it('removes a revoked partition’s gauge series', async () => {
    const metrics = createMetrics({ version: '1.2.3', defaultMetrics: false });
    metrics.stateEntries.set({ partition: 1 }, 10);
    metrics.stateEntries.set({ partition: 2 }, 20);
    metrics.stateEntries.remove({ partition: 1 });
    const samples = parseSamples(await metrics.text()).filter(
      (sample) => sample.name === 'persona_stream_state_entries',
    );
    expect(samples).toEqual([{ name: 'persona_stream_state_entries', labels: { partition: '2' }, value: 20 }]);
  });

  it('bounds every label: values past the limit fold into "other" instead of new series', async () => {
    const metrics = createMetrics({ version: '1.2.3', defaultMetrics: false });
    // A bug that passes customer ids as the DLQ reason must not create 10,000 series.
    for (let customer = 0; customer < 10_000; customer += 1) metrics.dlqRecords.inc({ reason: `cus_${customer}` });
    const samples = parseSamples(await metrics.text()).filter(
      (sample) => sample.name === 'persona_stream_dlq_records_total',
    );
    expect(samples).toHaveLength(LABEL_LIMITS.reason + 1);
    expect(samples.find((sample) => sample.labels['reason'] === 'cus_0')?.value).toBe(1);
    expect(samples.find((sample) => sample.labels['reason'] === OVERFLOW_LABEL_VALUE)?.value).toBe(
      10_000 - LABEL_LIMITS.reason,
    );
  });

  it('declares a limit for every label it uses, none of them an identifier of a customer or user', () => {
    const labels = new Set(Object.values(EXPECTED_FAMILIES).flatMap((family) => family.labels));
    labels.delete('version');
    labels.delete('node_version');
    expect([...labels].sort()).toEqual(Object.keys(LABEL_LIMITS).sort());
    for (const label of labels) expect(label).not.toMatch(/customer|user|id|email|anonymous/i);
    for (const limit of Object.values(LABEL_LIMITS)) expect(limit).toBeLessThanOrEqual(4_096);
  });
});

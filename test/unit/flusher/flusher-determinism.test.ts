import { describe, expect, it } from 'vitest';
import { generateTraffic } from '../../../src/demo/traffic-generator.js';
import type { DomainInput } from '../../../src/domain/pipeline/domain-input.js';
import { runOffline } from '../../../src/domain/pipeline/offline-run.js';
import { createPipeline } from '../../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import { FlushEngine } from '../../../src/flusher/flush-engine.js';
import { profileToRecord } from '../../../src/records/profile-record.js';
import { decodeRawInput } from '../../../src/sources/raw-input.js';
import { createVirtualClock, FAKE_MAVERA_KEY, startFakeMavera } from '../../support/fake-mavera.js';
import { MemoryOutputs, NOW } from './flusher-harness.js';

const config = parsePipelineConfig({ fx_rates: { eur: 1.08, jpy: 0.0067 } });
const pipeline = createPipeline(config);

function decodedTraffic(seed: number): DomainInput[] {
  const traffic = generateTraffic({ seed, customers: 40, users: 40, months: 4, start: Date.UTC(2026, 0, 1) });
  return traffic.flatMap((event) => decodeRawInput(event.raw, event.at).inputs);
}

const simulated = runOffline(pipeline, decodedTraffic(11), Date.UTC(2026, 4, 1));
const records = simulated.profiles.map(profileToRecord);

function engine(outputs: MemoryOutputs, mavera: { apiKey?: string; baseUrl?: string; dryRun: boolean }) {
  const clock = createVirtualClock(NOW);
  return {
    clock,
    engine: new FlushEngine({
      config,
      mavera: {
        apiKey: mavera.apiKey,
        baseUrl: mavera.baseUrl ?? 'http://mavera.invalid/api/v1',
        rateLimitPerMin: 600,
        sandbox: false,
        dryRun: mavera.dryRun,
      },
      outputs,
      clock,
    }),
  };
}

describe('the flusher sends exactly what simulate shows', () => {
  it('the traffic gives personas in several families', () => {
    expect(new Set(simulated.personas.map((plan) => plan.family))).toEqual(
      new Set(['revenue_tier', 'cdp_cluster', 'payment_geography']),
    );
    expect(simulated.personas.length).toBeGreaterThan(5);
  });

  it('a dry run reports simulate’s payloads, in simulate’s order, with its hashes', async () => {
    const outputs = new MemoryOutputs();
    const { engine: dry } = engine(outputs, { dryRun: true });
    for (const record of records) dry.applyProfile(record, record.key);
    await dry.flush(NOW);
    expect(
      outputs.audit.map((record) => ({
        segment: record.segment_key,
        payload: JSON.parse(record.request_body!) as unknown,
        hash: record.content_hash,
      })),
    ).toEqual(
      simulated.personas.map((plan) => ({
        segment: `${plan.family}/${plan.segment}`,
        payload: plan.payload,
        hash: plan.decision.hash,
      })),
    );
  });

  it('profiles arriving in any order, with stale versions and tombstones between, give the same creates', async () => {
    const fake = await startFakeMavera({ ratePerMinute: 10_000 });
    try {
      const outputs = new MemoryOutputs();
      const { engine: live } = engine(outputs, { apiKey: FAKE_MAVERA_KEY, baseUrl: fake.url, dryRun: false });
      const reversed = [...records].reverse();
      // A stale copy of every third profile under another profile's fields, then a tombstone, then the real one.
      reversed.forEach((record, i) => {
        const other = reversed[(i + 1) % reversed.length]!;
        if (i % 3 === 0) {
          live.applyProfile({ ...other, key: record.key, entity_id: record.entity_id }, record.key);
          live.applyProfile(null, record.key);
        }
        live.applyProfile(record, record.key);
      });
      const report = await live.flush(NOW);
      expect(report.decisions.created).toBe(simulated.personas.length);
      expect(fake.requestsTo('POST').map((request) => request.body)).toEqual(
        simulated.personas.map((plan) => plan.payload),
      );
      expect(outputs.registry.map((entry) => entry.content_hash)).toEqual(
        simulated.personas.map((plan) => plan.decision.hash),
      );
    } finally {
      await fake.close();
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateTraffic } from '../../../src/demo/traffic-generator.js';
import type { DomainInput } from '../../../src/domain/pipeline/domain-input.js';
import { EntityStates } from '../../../src/domain/pipeline/entity-states.js';
import { runOffline } from '../../../src/domain/pipeline/offline-run.js';
import { createPipeline } from '../../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import { encodeEntityState } from '../../../src/domain/state/index.js';
import { decodeRawInput } from '../../../src/sources/raw-input.js';

const pipeline = createPipeline(parsePipelineConfig({ fx_rates: { eur: 1.08, jpy: 0.0067 } }));

function decodedTraffic(seed: number): DomainInput[] {
  const traffic = generateTraffic({ seed, customers: 12, users: 12, months: 4, start: Date.UTC(2026, 0, 1) });
  return traffic.flatMap((event) => {
    const decoded = decodeRawInput(event.raw, event.at);
    expect(decoded.errors).toEqual([]);
    return decoded.inputs;
  });
}

/** Reorders `items` by random sort keys and appends duplicates of some of them at random places. */
function deliver<T>(items: readonly T[], sortKeys: readonly number[], duplicates: readonly number[]): T[] {
  const order = items.map((item, index) => ({ item, key: sortKeys[index] ?? 0, index }));
  for (const [n, pick] of duplicates.entries()) {
    const original = items[pick % items.length];
    if (original !== undefined)
      order.push({ item: original, key: sortKeys[(pick + n) % sortKeys.length] ?? 0, index: -1 - n });
  }
  return order.sort((a, b) => a.key - b.key || a.index - b.index).map((entry) => entry.item);
}

describe('determinism of the domain core', () => {
  const inputs = decodedTraffic(7);
  const at = Date.UTC(2026, 4, 1);
  const expected = runOffline(pipeline, inputs, at);

  it('the traffic exercises customers, users, movements and several segments', () => {
    expect(inputs.length).toBeGreaterThan(150);
    expect(expected.profiles.some((profile) => profile.kind === 'customer')).toBe(true);
    expect(expected.profiles.some((profile) => profile.kind === 'user')).toBe(true);
    expect(expected.profiles.some((profile) => (profile.revenue?.movements.expansion ?? 0) > 0)).toBe(true);
    expect(expected.summaries.filter((summary) => summary.count > 0).length).toBeGreaterThan(4);
  });

  it('any delivery order and any duplication give the same profiles, summaries and persona payloads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: inputs.length, maxLength: inputs.length }),
        fc.array(fc.nat({ max: inputs.length - 1 }), { maxLength: 60 }),
        (sortKeys, duplicates) => {
          const delivered = deliver(inputs, sortKeys, duplicates);
          const result = runOffline(pipeline, delivered, at);
          expect(result.profiles).toEqual(expected.profiles);
          expect(result.summaries).toEqual(expected.summaries);
          expect(result.personas).toEqual(expected.personas);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('any delivery order and any duplication give byte-identical states (what the changelog carries)', () => {
    const encodedStates = (delivered: readonly DomainInput[]) => {
      const states = new EntityStates(pipeline);
      for (const input of delivered) states.apply(input);
      // Without advancing to the stream time: folding expired buckets depends on how far the stream has got.
      const entries = [...states.customers, ...states.users];
      return new Map(
        entries.map(([key, state]) => [key, Buffer.from(encodeEntityState(state, pipeline)).toString('hex')]),
      );
    };
    const expectedStates = encodedStates(inputs);
    expect(expectedStates.size).toBe(24);
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: inputs.length, maxLength: inputs.length }),
        fc.array(fc.nat({ max: inputs.length - 1 }), { maxLength: 60 }),
        (sortKeys, duplicates) => {
          expect(encodedStates(deliver(inputs, sortKeys, duplicates))).toEqual(expectedStates);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('applying every event twice in a row is a no-op the second time', () => {
    const doubled = inputs.flatMap((input) => [input, input]);
    const result = runOffline(pipeline, doubled, at);
    expect(result.applied).toBe(expected.applied);
    expect(result.profiles).toEqual(expected.profiles);
  });
});

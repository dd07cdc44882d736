import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateTraffic } from '../../../src/demo/traffic-generator.js';
import { stripeInput, type DomainInput } from '../../../src/domain/pipeline/domain-input.js';
import { EntityStates } from '../../../src/domain/pipeline/entity-states.js';
import { createPipeline } from '../../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import { decodeRawInput } from '../../../src/sources/raw-input.js';
import { comparableUser } from '../../support/comparable-state.js';

const pipeline = createPipeline(parsePipelineConfig({ fx_rates: { eur: 1.08, jpy: 0.0067 } }));

function decodedTraffic(): DomainInput[] {
  const traffic = generateTraffic({ seed: 11, customers: 40, users: 40, months: 3, start: Date.UTC(2026, 0, 1) });
  return traffic.flatMap((event) => decodeRawInput(event.raw, event.at).inputs);
}

function snapshot(states: EntityStates): unknown {
  return {
    customers: [...states.customers].sort(([a], [b]) => (a < b ? -1 : 1)),
    users: [...states.users]
      .map(([key, state]) => [key, comparableUser(state)] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
    newest: states.newestEventTime,
  };
}

describe('EntityStates.applyBatch', () => {
  const inputs = decodedTraffic();
  // Duplicates and an input without facts ride along: the batch path must skip and count them as apply does.
  const withDuplicates: DomainInput[] = [...inputs, ...inputs.slice(0, 200), stripeInput([])];
  const one = new EntityStates(pipeline, { advanceWithStreamTime: true });
  const changed = withDuplicates.filter((input) => one.apply(input)).length;

  it('the traffic has customers, users and duplicates', () => {
    expect(one.customers.size).toBe(40);
    expect(one.users.size).toBeGreaterThanOrEqual(40);
    expect(changed).toBeLessThan(withDuplicates.length);
  });

  it('leaves the same states and counts the same changes as applying the inputs one by one, whatever the batch sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 12 }), (sizes) => {
        const batched = new EntityStates(pipeline, { advanceWithStreamTime: true });
        let applied = 0;
        for (let start = 0, n = 0; start < withDuplicates.length; n++) {
          const size = sizes[n % sizes.length] ?? 1;
          applied += batched.applyBatch(withDuplicates.slice(start, start + size));
          start += size;
        }
        expect(applied).toBe(changed);
        expect(snapshot(batched)).toEqual(snapshot(one));
      }),
      { numRuns: 15 },
    );
  });

  it('finds every state again after its index grew in the middle of a batch', () => {
    const traffic = generateTraffic({ seed: 3, customers: 600, users: 600, months: 1, start: Date.UTC(2026, 0, 1) });
    const many = traffic.flatMap((event) => decodeRawInput(event.raw, event.at).inputs);
    const batched = new EntityStates(pipeline);
    const single = new EntityStates(pipeline);
    expect(batched.applyBatch(many)).toBe(many.filter((input) => single.apply(input)).length);
    expect(batched.customers.size).toBe(600);
    expect(batched.users.size).toBe(single.users.size);
    const at = Date.UTC(2026, 1, 1);
    expect(batched.profiles(at)).toEqual(single.profiles(at));
  });

  it('an empty batch changes nothing', () => {
    const states = new EntityStates(pipeline);
    expect(states.applyBatch([])).toBe(0);
    expect(states.size).toBe(0);
  });
});

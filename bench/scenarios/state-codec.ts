import { performance } from 'node:perf_hooks';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { EntityStates } from '../../src/domain/pipeline/offline-run.js';
import { createPipeline, type EntityState } from '../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { userTraitStateToJSON } from '../../src/domain/traits/index.js';
import { decodeEntityState, encodeEntityState } from '../../src/domain/state/index.js';
import { decodeRawInput } from '../../src/sources/raw-input.js';

export interface StateCodecOptions {
  readonly customers: number;
  readonly users: number;
  readonly months: number;
  readonly seed: number;
  /** Encode and decode passes over every state; the best pass is reported (least disturbed by GC and JIT). */
  readonly runs: number;
}

export interface ByteFigures {
  readonly customer: number;
  readonly user: number;
}

export interface StateCodecResult {
  readonly scenario: 'state-codec';
  readonly states: ByteFigures;
  /** States per second over all states (customers and users as the traffic mixes them). */
  readonly encodePerSec: number;
  readonly decodePerSec: number;
  readonly encodePerSecByKind: ByteFigures;
  readonly decodePerSecByKind: ByteFigures;
  readonly meanBytes: ByteFigures;
  readonly p99Bytes: ByteFigures;
  readonly maxBytes: ByteFigures;
  /** The same states as JSON text (`JSON.stringify`, the trait state through its JSON codec), for comparison. */
  readonly meanNaiveJsonBytes: ByteFigures;
}

const START = Date.UTC(2026, 0, 1);

/**
 * The entity-state codec over the demo generator's traffic: states are built the way the processor builds them
 * (events applied in event-time order, advanced with the stream time), then every state is encoded and decoded
 * `runs` times, all together and per kind; the best run counts. Sizes are of the encoded records, checksum included.
 */
export function runStateCodecBench(
  options: StateCodecOptions,
  log: (line: string) => void = () => {},
): StateCodecResult {
  const pipeline = createPipeline(parsePipelineConfig({ fx_rates: { eur: 1.08, jpy: 0.0067 } }));
  const states = new EntityStates(pipeline, { advanceWithStreamTime: true });
  for (const event of generateTraffic({ ...options, start: START })) {
    for (const input of decodeRawInput(event.raw, event.at).inputs) states.apply(input);
  }
  const customers: EntityState[] = [...states.customers.values()];
  const users: EntityState[] = [...states.users.values()];
  const all: EntityState[] = [...customers, ...users];
  log(`state-codec: ${customers.length} customers + ${users.length} users, ${options.runs} runs`);

  const encoded = all.map((state) => encodeEntityState(state, pipeline));
  const timing = (list: readonly EntityState[]) => {
    const records = list.map((state) => encodeEntityState(state, pipeline));
    let encodeSeconds = Number.POSITIVE_INFINITY;
    let decodeSeconds = Number.POSITIVE_INFINITY;
    for (let run = 0; run < options.runs; run++) {
      const started = performance.now();
      for (const state of list) encodeEntityState(state, pipeline);
      encodeSeconds = Math.min(encodeSeconds, (performance.now() - started) / 1000);
      const decodeStarted = performance.now();
      for (const bytes of records) decodeEntityState(bytes, pipeline);
      decodeSeconds = Math.min(decodeSeconds, (performance.now() - decodeStarted) / 1000);
    }
    return { encode: list.length / encodeSeconds, decode: list.length / decodeSeconds };
  };
  const overall = timing(all);
  const customerTiming = timing(customers);
  const userTiming = timing(users);

  const customerSizes: number[] = [];
  const userSizes: number[] = [];
  const customerJson: number[] = [];
  const userJson: number[] = [];
  all.forEach((state, i) => {
    const size = (encoded[i] as Uint8Array).length;
    if (state.kind === 'customer') {
      customerSizes.push(size);
      customerJson.push(JSON.stringify(state).length);
    } else {
      userSizes.push(size);
      userJson.push(JSON.stringify({ ...state, traits: userTraitStateToJSON(state.traits, pipeline.traits) }).length);
    }
  });
  return {
    scenario: 'state-codec',
    states: { customer: customerSizes.length, user: userSizes.length },
    encodePerSec: overall.encode,
    decodePerSec: overall.decode,
    encodePerSecByKind: { customer: customerTiming.encode, user: userTiming.encode },
    decodePerSecByKind: { customer: customerTiming.decode, user: userTiming.decode },
    meanBytes: { customer: mean(customerSizes), user: mean(userSizes) },
    p99Bytes: { customer: percentile(customerSizes, 0.99), user: percentile(userSizes, 0.99) },
    maxBytes: { customer: percentile(customerSizes, 1), user: percentile(userSizes, 1) },
    meanNaiveJsonBytes: { customer: mean(customerJson), user: mean(userJson) },
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}

import { performance } from 'node:perf_hooks';
import { generateTraffic, type GeneratedEvent } from '../../src/demo/traffic-generator.js';
import { EntityStates, type DomainInput } from '../../src/domain/pipeline/offline-run.js';
import { createPipeline, type Pipeline } from '../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { decodeRawInput } from '../../src/sources/raw-input.js';
import { formatRate, heapUsed, spreadOf, type Spread } from '../stats.js';

export interface ReducerOptions {
  readonly customers: number;
  readonly users: number;
  readonly months: number;
  readonly runs: number;
  readonly seed: number;
}

export interface ReducerResult {
  readonly scenario: 'reducer';
  readonly events: number;
  readonly entities: number;
  readonly parseEventsPerSecond: number;
  readonly applyEventsPerSecond: Spread;
  readonly deriveProfilesPerSecond: Spread;
  readonly bytesPerEntity: number;
  readonly bytesPerCustomer: number;
  readonly bytesPerUser: number;
  readonly goals: { readonly eventsPerSecond: number; readonly bytesPerEntity: number };
}

const START = Date.UTC(2026, 0, 1);

/**
 * Scenario 1: the domain reducer on one core. Raw vendor JSON is decoded first (parse rate reported separately);
 * then the same decoded inputs are applied to fresh state `runs` times. Retained bytes are the heap delta after GC
 * between an empty store and a full one, with the inputs held alive in both measurements.
 */
export function runReducerScenario(options: ReducerOptions, log: (line: string) => void): ReducerResult {
  const pipeline = createPipeline(parsePipelineConfig({ fx_rates: { eur: 1.08, jpy: 0.0067 } }));
  log(`reducer: generating ${options.customers} customers + ${options.users} users over ${options.months} months`);
  const traffic = generateTraffic({
    seed: options.seed,
    customers: options.customers,
    users: options.users,
    months: options.months,
    start: START,
  });

  const parseStarted = performance.now();
  const inputs: DomainInput[] = [];
  for (const event of traffic) {
    const decoded = decodeRawInput(event.raw, event.at);
    if (decoded.errors.length > 0) throw new Error(`generated traffic rejected: ${decoded.errors.join('; ')}`);
    for (const input of decoded.inputs) inputs.push(input);
  }
  const parseSeconds = (performance.now() - parseStarted) / 1000;
  const generated = traffic;
  log(
    `reducer: ${inputs.length} events decoded (${formatRate(inputs.length / parseSeconds)}); applying ${options.runs}×`,
  );

  const applyRates: number[] = [];
  const deriveRates: number[] = [];
  let entities = 0;
  for (let run = 0; run < options.runs; run++) {
    const states = new EntityStates(pipeline, { advanceWithStreamTime: true });
    const started = performance.now();
    for (const input of inputs) states.apply(input);
    applyRates.push(inputs.length / ((performance.now() - started) / 1000));
    entities = states.size;
    const at = states.newestEventTime ?? START;
    const deriveStarted = performance.now();
    const profiles = states.profiles(at);
    deriveRates.push(profiles.length / ((performance.now() - deriveStarted) / 1000));
  }

  const stripeTraffic = generated.filter((event) => event.source === 'stripe');
  const segmentTraffic = generated.filter((event) => event.source === 'segment');
  const all = retainedBytes(pipeline, generated);
  const customers = retainedBytes(pipeline, stripeTraffic);
  const users = retainedBytes(pipeline, segmentTraffic);
  return {
    scenario: 'reducer',
    events: inputs.length,
    entities,
    parseEventsPerSecond: inputs.length / parseSeconds,
    applyEventsPerSecond: spreadOf(applyRates),
    deriveProfilesPerSecond: spreadOf(deriveRates),
    bytesPerEntity: all.bytes / all.entities,
    bytesPerCustomer: customers.bytes / customers.entities,
    bytesPerUser: users.bytes / users.entities,
    goals: { eventsPerSecond: 500_000, bytesPerEntity: 1024 },
  };
}

/**
 * Heap retained by the state of `traffic`'s entities: decoded one event at a time and dropped after applying, as the
 * processor does with records, so whatever the state keeps of the parsed events is counted. The raw traffic is alive
 * in both measurements.
 */
function retainedBytes(pipeline: Pipeline, traffic: readonly GeneratedEvent[]): { bytes: number; entities: number } {
  const before = heapUsed();
  const states = new EntityStates(pipeline, { advanceWithStreamTime: true });
  for (const event of traffic) {
    for (const input of decodeRawInput(event.raw, event.at).inputs) states.apply(input);
  }
  const after = heapUsed();
  // Reading the store after the measurement keeps it alive through it.
  return { bytes: after - before, entities: states.size };
}

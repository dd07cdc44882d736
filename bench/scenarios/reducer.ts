import { performance } from 'node:perf_hooks';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
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
  traffic.length = 0;
  log(
    `reducer: ${inputs.length} events decoded (${formatRate(inputs.length / parseSeconds)}); applying ${options.runs}×`,
  );

  const applyRates: number[] = [];
  const deriveRates: number[] = [];
  let entities = 0;
  for (let run = 0; run < options.runs; run++) {
    const states = new EntityStates(pipeline);
    const started = performance.now();
    for (const input of inputs) states.apply(input);
    applyRates.push(inputs.length / ((performance.now() - started) / 1000));
    entities = states.states.size;
    const at = states.newestEventTime ?? START;
    const deriveStarted = performance.now();
    const profiles = states.profiles(at);
    deriveRates.push(profiles.length / ((performance.now() - deriveStarted) / 1000));
  }

  const stripeInputs = inputs.filter((input) => input.source === 'stripe');
  const segmentInputs = inputs.filter((input) => input.source === 'segment');
  const all = retainedBytes(pipeline, inputs);
  const customers = retainedBytes(pipeline, stripeInputs);
  const users = retainedBytes(pipeline, segmentInputs);
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

function retainedBytes(pipeline: Pipeline, inputs: readonly DomainInput[]): { bytes: number; entities: number } {
  const before = heapUsed();
  const states = new EntityStates(pipeline);
  for (const input of inputs) states.apply(input);
  const after = heapUsed();
  // Reading the store after the measurement keeps it alive through it.
  return { bytes: after - before, entities: states.states.size };
}

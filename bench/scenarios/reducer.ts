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
/** Records decoded per batch, about what one Kafka fetch of a busy partition set holds. */
const WINDOW = 20_000;

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

  // The events as Kafka records: JSON text. The processor holds one batch of decoded events at a time, never the
  // whole topic, so the applied events are decoded a window at a time (untimed) and dropped after applying; what is
  // timed is the reducer alone, with the heap of a running processor (its state plus one batch).
  const records = traffic.map((event) => ({ at: event.at, text: JSON.stringify(event.raw) }));
  traffic.length = 0;

  const parseStarted = performance.now();
  let eventCount = 0;
  for (const record of records) eventCount += decodeRawInput(JSON.parse(record.text), record.at).inputs.length;
  const parseSeconds = (performance.now() - parseStarted) / 1000;
  log(
    `reducer: ${eventCount} events parsed and decoded (${formatRate(eventCount / parseSeconds)}); applying ${options.runs}×`,
  );

  const applyRates: number[] = [];
  const deriveRates: number[] = [];
  let entities = 0;
  for (let run = 0; run < options.runs; run++) {
    const states = new EntityStates(pipeline, { advanceWithStreamTime: true });
    let applySeconds = 0;
    for (let start = 0; start < records.length; start += WINDOW) {
      const window: DomainInput[] = [];
      for (const record of records.slice(start, start + WINDOW)) {
        for (const input of decodeRawInput(JSON.parse(record.text), record.at).inputs) window.push(input);
      }
      const started = performance.now();
      for (const input of window) states.apply(input);
      applySeconds += (performance.now() - started) / 1000;
    }
    applyRates.push(eventCount / applySeconds);
    entities = states.size;
    const at = states.newestEventTime ?? START;
    const deriveStarted = performance.now();
    const profiles = states.profiles(at);
    deriveRates.push(profiles.length / ((performance.now() - deriveStarted) / 1000));
  }

  const isStripe = (record: { readonly text: string }) => record.text.includes('"object":"event"');
  const customers = retainedBytes(pipeline, records.filter(isStripe));
  const users = retainedBytes(
    pipeline,
    records.filter((record) => !isStripe(record)),
  );
  // Customers and users share nothing, so the whole store is the sum of the two.
  const all = { bytes: customers.bytes + users.bytes, entities: customers.entities + users.entities };
  return {
    scenario: 'reducer',
    events: eventCount,
    entities,
    parseEventsPerSecond: eventCount / parseSeconds,
    applyEventsPerSecond: spreadOf(applyRates),
    deriveProfilesPerSecond: spreadOf(deriveRates),
    bytesPerEntity: all.bytes / all.entities,
    bytesPerCustomer: customers.bytes / customers.entities,
    bytesPerUser: users.bytes / users.entities,
    goals: { eventsPerSecond: 500_000, bytesPerEntity: 1024 },
  };
}

/**
 * Heap retained by the state of the records' entities: each record is parsed and decoded on its own and dropped after
 * applying, as the processor does, so whatever the state keeps of it is counted. Measured as the heap with the state
 * minus the heap once the state is dropped; V8 sometimes keeps the newest object graph reachable from an optimised
 * frame for one more collection (a sample of ~0), so the larger of two samples is taken.
 */
function retainedBytes(
  pipeline: Pipeline,
  records: readonly { readonly at: number; readonly text: string }[],
): { bytes: number; entities: number } {
  let bytes = 0;
  let entities = 0;
  for (let sample = 0; sample < 2; sample++) {
    const holder: { states: EntityStates | null } = { states: buildStates(pipeline, records) };
    const withState = heapUsed();
    entities = holder.states?.size ?? 0;
    holder.states = null;
    bytes = Math.max(bytes, withState - heapUsed());
  }
  return { bytes, entities };
}

function buildStates(
  pipeline: Pipeline,
  records: readonly { readonly at: number; readonly text: string }[],
): EntityStates {
  const states = new EntityStates(pipeline, { advanceWithStreamTime: true });
  for (const record of records) {
    for (const input of decodeRawInput(JSON.parse(record.text), record.at).inputs) states.apply(input);
  }
  return states;
}

import { performance } from 'node:perf_hooks';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import type { DomainInput } from '../../src/domain/pipeline/domain-input.js';
import { EntityStates } from '../../src/domain/pipeline/entity-states.js';
import { createPipeline, type Pipeline } from '../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { decodeRawInput } from '../../src/sources/raw-input.js';
import { atLeast, atMost, type Row, type ScenarioReport } from '../report.js';
import { formatCount, formatRate, formatSpread, jsMemoryUsed, spreadOf, type Spread } from '../stats.js';
import { measureStateCodec, type StateCodecResult } from './state-codec.js';

export interface ReducerOptions {
  readonly customers: number;
  readonly users: number;
  readonly months: number;
  readonly runs: number;
  readonly seed: number;
}

export interface ReducerDetails {
  readonly events: number;
  readonly entities: number;
  /** Raw vendor JSON → domain inputs (JSON.parse + the zod schemas of src/sources), one pass. */
  readonly parseEventsPerSecond: number;
  readonly applyEventsPerSecond: Spread;
  /**
   * Every event re-applied to a state that already holds it (each one a duplicate, so nothing changes): the entity
   * lookup and the first reads of its state, with almost none of the update work. What any update logic costs is on
   * top of this.
   */
  readonly duplicateEventsPerSecond: number;
  readonly deriveProfilesPerSecond: Spread;
  /** Heap retained per entity, measured on `retainedSample` entities built from their own decoded events. */
  readonly retainedSample: { readonly customers: number; readonly users: number };
  readonly bytesPerEntity: number;
  readonly bytesPerCustomer: number;
  readonly bytesPerUser: number;
  readonly codec: StateCodecResult;
  readonly goals: { readonly eventsPerSecond: number; readonly bytesPerEntity: number };
}

const START = Date.UTC(2026, 0, 1);
/** Records decoded per batch, about what one Kafka fetch of a busy partition set holds. */
const WINDOW = 20_000;
/** Entities per kind the retained-bytes figure is measured on (bytes per entity do not depend on their number). */
const RETAINED_SAMPLE = 5_000;
const SLAB_BYTES = 128 * 2 ** 20;
const GOALS = { eventsPerSecond: 500_000, bytesPerEntity: 1_024 };

/** A window of records as Kafka holds them: JSON text, off the V8 heap (one buffer, one line per record). */
interface RecordWindow {
  readonly text: Buffer;
  readonly at: Float64Array;
}

/**
 * Scenario 1: the domain reducer on one core. The generated traffic is kept as JSON text off the heap, so the heap
 * is what a running processor's would be: the state plus one batch. `runs` full runs over the same events, one after
 * the other, each into its own state, which is dropped before the next run starts (interleaved runs kept every run's
 * state alive, and each run then paid for collecting the others': ~11% of its rate). Each run decodes every window of
 * records before applying it (the first run's decoding gives the parse rate); only the application is timed. The
 * state codec is measured on the first run's states, and the retained heap per entity on a state built apart (from
 * its own decoded events, so no object is shared with other runs).
 */
export function runReducerScenario(options: ReducerOptions, log: (line: string) => void): ScenarioReport {
  const pipeline = createPipeline(parsePipelineConfig({ fx_rates: { eur: 1.08, jpy: 0.0067 } }));
  // Its states are unreachable once it returns: the retained-heap measurement starts from a clean heap.
  const measured = measureRuns(pipeline, options, log);
  const sample = {
    customers: Math.min(options.customers, RETAINED_SAMPLE),
    users: Math.min(options.users, RETAINED_SAMPLE),
  };
  log(`reducer: retained heap on ${formatCount(sample.customers)} + ${formatCount(sample.users)} entities`);
  const retained = retainedBytes(pipeline, recordWindows(options, sample.customers, sample.users));
  const details: ReducerDetails = {
    ...measured,
    retainedSample: { customers: retained.customers, users: retained.users },
    bytesPerEntity: (retained.customerBytes + retained.userBytes) / (retained.customers + retained.users),
    bytesPerCustomer: retained.customerBytes / Math.max(1, retained.customers),
    bytesPerUser: retained.userBytes / Math.max(1, retained.users),
    goals: GOALS,
  };
  return { scenario: 'reducer', rows: reducerRows(details), details };
}

type MeasuredRuns = Pick<
  ReducerDetails,
  | 'events'
  | 'entities'
  | 'parseEventsPerSecond'
  | 'applyEventsPerSecond'
  | 'duplicateEventsPerSecond'
  | 'deriveProfilesPerSecond'
  | 'codec'
>;

function measureRuns(pipeline: Pipeline, options: ReducerOptions, log: (line: string) => void): MeasuredRuns {
  log(
    `reducer: generating ${formatCount(options.customers)} customers + ${formatCount(options.users)} users over ${String(options.months)} months`,
  );
  const windows = recordWindows(options, options.customers, options.users);
  const events = windows.reduce((sum, window) => sum + window.at.length, 0);
  log(`reducer: ${formatCount(events)} events; ${String(options.runs)} runs, each into a state of its own`);
  const applyRates: number[] = [];
  const deriveRates: number[] = [];
  let parseSeconds = 0;
  let inputs = 0;
  let entities = 0;
  let codec: StateCodecResult | null = null;
  for (let run = 0; run < options.runs; run++) {
    const states = new EntityStates(pipeline, { advanceWithStreamTime: true });
    let applySeconds = 0;
    let runInputs = 0;
    windows.forEach((window, index) => {
      const parseStarted = performance.now();
      const batch = decodeWindow(window);
      if (run === 0) parseSeconds += (performance.now() - parseStarted) / 1_000;
      runInputs += batch.length;
      // JIT warm-up on the first window, so the first run does not pay for it alone.
      if (run === 0 && index === 0) applyAll(new EntityStates(pipeline, { advanceWithStreamTime: true }), batch);
      const started = performance.now();
      applyAll(states, batch);
      applySeconds += (performance.now() - started) / 1_000;
    });
    if (run === 0) {
      inputs = runInputs;
      entities = states.size;
    } else if (states.size !== entities || runInputs !== inputs) {
      throw new Error('reducer: runs over the same events differ');
    }
    applyRates.push(inputs / applySeconds);
    const started = performance.now();
    const profiles = states.profiles(states.newestEventTime ?? START);
    deriveRates.push(profiles.length / ((performance.now() - started) / 1_000));
    log(`reducer: run ${String(run + 1)}: ${formatRate(inputs / applySeconds)} events applied`);
    if (run === 0) {
      log(`reducer: state codec over ${formatCount(states.size)} states`);
      codec = measureStateCodec(states, pipeline, Math.max(2, options.runs));
    }
  }
  if (codec === null) throw new Error('reducer: no run');
  log('reducer: every event again, each a duplicate (the lookup floor)');
  const duplicateEventsPerSecond = duplicatePassRate(pipeline, windows);
  return {
    events: inputs,
    entities,
    parseEventsPerSecond: inputs / parseSeconds,
    applyEventsPerSecond: spreadOf(applyRates),
    duplicateEventsPerSecond,
    deriveProfilesPerSecond: spreadOf(deriveRates),
    codec,
  };
}

function reducerRows(details: ReducerDetails): Row[] {
  const { codec } = details;
  const bytes = (value: number) => `${value.toFixed(0)} B`;
  const row = (fields: Omit<Row, 'scenario'>): Row => ({ scenario: 'reducer', ...fields });
  const apply = details.applyEventsPerSecond;
  const derive = details.deriveProfilesPerSecond;
  const storedMean =
    (codec.meanBytes.customer * codec.states.customer + codec.meanBytes.user * codec.states.user) /
      Math.max(1, codec.states.customer + codec.states.user) +
    4;
  return [
    row({
      figure: `events applied/s, one core (${formatCount(details.events)} events, ${formatCount(details.entities)} entities)`,
      value: apply.median,
      unit: 'events/s',
      median: formatRate(apply.median),
      spread: formatSpread(apply, formatRate),
      goal: atLeast(apply.median, GOALS.eventsPerSecond, formatRate),
    }),
    row({
      figure: 'events re-applied/s when each is a duplicate (lookup floor; events applied ÷ this)',
      value: details.duplicateEventsPerSecond,
      unit: 'events/s',
      median: `${formatRate(details.duplicateEventsPerSecond)} (${(apply.median / details.duplicateEventsPerSecond).toFixed(2)})`,
      spread: 'one pass',
      goal: null,
    }),
    row({
      figure: `retained heap per entity, customers / users (heap + ArrayBuffer delta after GC, ${formatCount(details.retainedSample.customers)} + ${formatCount(details.retainedSample.users)} entities)`,
      value: details.bytesPerEntity,
      unit: 'B',
      median: `${bytes(details.bytesPerEntity)} (${bytes(details.bytesPerCustomer)} / ${bytes(details.bytesPerUser)})`,
      spread: 'larger of 2 samples',
      goal: atMost(details.bytesPerEntity, GOALS.bytesPerEntity, bytes),
    }),
    row({
      figure: 'profiles derived/s',
      value: derive.median,
      unit: 'profiles/s',
      median: formatRate(derive.median),
      spread: formatSpread(derive, formatRate),
      goal: null,
    }),
    row({
      figure: 'raw vendor JSON decoded/s (JSON.parse + zod, src/sources)',
      value: details.parseEventsPerSecond,
      unit: 'events/s',
      median: formatRate(details.parseEventsPerSecond),
      spread: 'one pass',
      goal: null,
    }),
    row({
      figure: `state codec: stored bytes per entity in LMDB (4 B profile hash + encoded state), customers / users mean (p99) over ${formatCount(codec.states.customer + codec.states.user)} states`,
      value: storedMean,
      unit: 'B',
      median: `${bytes(storedMean)} (${bytes(codec.meanBytes.customer + 4)} (${bytes(codec.p99Bytes.customer + 4)}) / ${bytes(codec.meanBytes.user + 4)} (${bytes(codec.p99Bytes.user + 4)}))`,
      spread: `naive JSON: ${bytes(codec.meanNaiveJsonBytes.customer)} / ${bytes(codec.meanNaiveJsonBytes.user)}`,
      goal: atMost(storedMean, GOALS.bytesPerEntity, bytes),
    }),
    row({
      figure: 'state codec: states encoded/s (decoded/s)',
      value: codec.encodePerSec,
      unit: 'states/s',
      median: `${formatRate(codec.encodePerSec)} (${formatRate(codec.decodePerSec)})`,
      spread: `best of ${String(codec.runs)} passes`,
      goal: null,
    }),
  ];
}

/**
 * The traffic as windows of JSON lines in a few large buffers. Few and large on purpose: V8 counts buffer memory
 * towards its collection heuristics, and one small buffer per window made it run a full collection of the
 * generator's object graph (~1 GB at full size) per window.
 */
function recordWindows(options: ReducerOptions, customers: number, users: number): RecordWindow[] {
  const traffic = generateTraffic({ seed: options.seed, customers, users, months: options.months, start: START });
  const windows: RecordWindow[] = [];
  let slab = Buffer.alloc(0);
  let used = 0;
  for (let start = 0; start < traffic.length; start += WINDOW) {
    const slice = traffic.slice(start, start + WINDOW);
    const text = slice.map((event) => JSON.stringify(event.raw)).join('\n');
    const bytes = Buffer.byteLength(text, 'utf8');
    if (used + bytes > slab.byteLength) {
      slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bytes));
      used = 0;
    }
    slab.write(text, used, 'utf8');
    windows.push({ text: slab.subarray(used, used + bytes), at: Float64Array.from(slice, (event) => event.at) });
    used += bytes;
  }
  return windows;
}

function decodeWindow(window: RecordWindow): DomainInput[] {
  const inputs: DomainInput[] = [];
  const lines = window.text.toString('utf8').split('\n');
  lines.forEach((line, i) => {
    for (const input of decodeRawInput(JSON.parse(line), window.at[i] as number).inputs) inputs.push(input);
  });
  return inputs;
}

/**
 * Builds a state from every window, then applies every window to it again and times that second pass, in which each
 * event is a duplicate. Without advancing to the stream time: an advanced state has folded its old day buckets, and
 * a message older than the horizon is applied to all-time traits again rather than recognised.
 */
function duplicatePassRate(pipeline: Pipeline, windows: readonly RecordWindow[]): number {
  const states = new EntityStates(pipeline);
  for (const window of windows) applyAll(states, decodeWindow(window));
  let seconds = 0;
  let inputs = 0;
  for (const window of windows) {
    const batch = decodeWindow(window);
    const started = performance.now();
    const changed = states.applyBatch(batch);
    seconds += (performance.now() - started) / 1_000;
    if (changed !== 0) throw new Error(`reducer: ${String(changed)} events changed a state that already held them`);
    inputs += batch.length;
  }
  return inputs / seconds;
}

/** A decoded window is one batch, as the processor applies a fetched batch. */
function applyAll(states: EntityStates, inputs: readonly DomainInput[]): void {
  states.applyBatch(inputs);
}

/**
 * Heap retained by the state of the windows' entities: every window decoded for this state alone, so whatever the
 * state keeps of its inputs is counted. Per kind: heap with the state, minus heap with its customers dropped, minus
 * heap with its users dropped too. V8 sometimes keeps the newest object graph reachable from an optimised frame for
 * one more collection (a sample of ~0), so the larger of two samples is taken.
 */
function retainedBytes(
  pipeline: Pipeline,
  windows: readonly RecordWindow[],
): { customers: number; users: number; customerBytes: number; userBytes: number } {
  let customerBytes = 0;
  let userBytes = 0;
  let customers = 0;
  let users = 0;
  for (let sample = 0; sample < 2; sample++) {
    const states = buildStates(pipeline, windows);
    customers = states.customers.size;
    users = states.users.size;
    const withBoth = jsMemoryUsed();
    states.customers.clear();
    const withUsers = jsMemoryUsed();
    states.users.clear();
    const withNone = jsMemoryUsed();
    customerBytes = Math.max(customerBytes, withBoth - withUsers);
    userBytes = Math.max(userBytes, withUsers - withNone);
  }
  return { customers, users, customerBytes, userBytes };
}

function buildStates(pipeline: Pipeline, windows: readonly RecordWindow[]): EntityStates {
  const states = new EntityStates(pipeline, { advanceWithStreamTime: true });
  for (const window of windows) applyAll(states, decodeWindow(window));
  return states;
}

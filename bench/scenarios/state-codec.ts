import { performance } from 'node:perf_hooks';
import type { EntityStates } from '../../src/domain/pipeline/entity-states.js';
import type { EntityState, Pipeline } from '../../src/domain/pipeline/pipeline.js';
import { userTraitStateToJSON } from '../../src/domain/traits/index.js';
import { decodeEntityState, encodeEntityState } from '../../src/domain/state/index.js';
import { mean, percentile } from '../stats.js';

export interface ByteFigures {
  readonly customer: number;
  readonly user: number;
}

export interface StateCodecResult {
  readonly states: ByteFigures;
  /** Encode and decode passes over every state; the best pass is reported (least disturbed by GC and JIT). */
  readonly runs: number;
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

const TIMED_STATES = 20_000;

/**
 * The entity-state codec (src/domain/state) over the states the reducer built from generated traffic (events
 * applied in event-time order, advanced with the stream time, as the processor builds them): every state is encoded
 * and decoded `runs` times (up to 20k of them, evenly spread), all together and per kind; the best run counts. Sizes are of the encoded records,
 * checksum included (the LMDB value and the changelog record add a 4-byte profile hash).
 */
export function measureStateCodec(states: EntityStates, pipeline: Pipeline, runs: number): StateCodecResult {
  const customers: EntityState[] = [...states.customers.values()];
  const users: EntityState[] = [...states.users.values()];
  const all: EntityState[] = [...customers, ...users];

  const encoded = all.map((state) => encodeEntityState(state, pipeline));
  // Rates do not depend on how many states there are: timed on an evenly spread sample of each list.
  const timing = (states: readonly EntityState[]) => {
    const stride = Math.max(1, Math.floor(states.length / TIMED_STATES));
    const list = states.filter((_, i) => i % stride === 0);
    const records = list.map((state) => encodeEntityState(state, pipeline));
    let encodeSeconds = Number.POSITIVE_INFINITY;
    let decodeSeconds = Number.POSITIVE_INFINITY;
    for (let run = 0; run < runs; run++) {
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
      const { kind, entityKey, lastEventAt } = state;
      const traits = userTraitStateToJSON(state, pipeline.traits);
      userJson.push(JSON.stringify({ kind, entityKey, lastEventAt, traits }).length);
    }
  });
  return {
    states: { customer: customerSizes.length, user: userSizes.length },
    runs,
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

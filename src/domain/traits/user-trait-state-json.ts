import { z } from 'zod';
import type { JsonValue } from '../segment/model.js';
import { aggregateLayout, type AggregateKind, type CompiledAggregate, type CompiledTraits } from './compiled-traits.js';
import { MAX_BUCKET_IDS, bucketCounts, bucketsOf } from './day-buckets.js';
import {
  NO_HORIZON,
  createUserTraitState,
  setIdentifySlot,
  type AggregateRef,
  type UserTraitState,
} from './user-trait-state.js';
import { addValueCount, type ValueCounts } from './value-counts.js';

export const USER_TRAIT_STATE_JSON_VERSION = 1;

const jsonValueSchema = z.json() as z.ZodType<JsonValue>;

/**
 * The state as written to the changelog. Partials are stored per definition key together with the definition's
 * signature, so a config change keeps what still applies: a definition whose meaning changed (or a new one)
 * starts empty and needs a replay to catch up — compare `compiled.fingerprint` to know when. Partial encodings:
 * count → n; sum → total in millionths; avg → [millionths, n]; min/max → number|null;
 * first/last → [eventTimeMs, messageIdHash, value] | null; most_frequent/unique_* → [value, count, …] | null.
 */
export const userTraitStateJsonSchema = z.strictObject({
  v: z.literal(USER_TRAIT_STATE_JSON_VERSION),
  firstSeenAt: z.number().nullable(),
  lastSeenAt: z.number().nullable(),
  lastActivityAt: z.number().nullable(),
  horizonDay: z.int().nullable(),
  /** [UTC day index, activity events, ascending messageId hashes] per bucket, ascending by day. */
  buckets: z
    .array(z.tuple([z.int(), z.int().min(0), z.array(z.int()).max(MAX_BUCKET_IDS)]))
    .superRefine((buckets, ctx) => {
      for (let i = 1; i < buckets.length; i++) {
        if ((buckets[i]?.[0] ?? 0) <= (buckets[i - 1]?.[0] ?? 0)) {
          ctx.addIssue({ code: 'custom', path: [i, 0], message: 'bucket days must be strictly ascending' });
        }
      }
    }),
  windowed: z.record(z.string(), z.strictObject({ sig: z.string(), parts: z.array(jsonValueSchema) })),
  allTime: z.record(z.string(), z.strictObject({ sig: z.string(), part: jsonValueSchema })),
  /** Identify path → [event time, newest value]. */
  identify: z.record(z.string(), z.tuple([z.number(), jsonValueSchema])),
});

export type UserTraitStateJson = z.output<typeof userTraitStateJsonSchema>;

export class TraitStateDecodeError extends Error {
  constructor(
    readonly path: readonly PropertyKey[],
    detail: string,
  ) {
    super(`trait state${path.map((p) => `[${JSON.stringify(String(p))}]`).join('')}: ${detail}`);
    this.name = 'TraitStateDecodeError';
  }
}

export function userTraitStateToJSON(state: UserTraitState, compiled: CompiledTraits): UserTraitStateJson {
  const buckets = bucketsOf(state);
  const windowed: UserTraitStateJson['windowed'] = {};
  const allTime: UserTraitStateJson['allTime'] = {};
  for (const aggregate of compiled.aggregates) {
    if (aggregate.windowDays > 0) {
      const parts: JsonValue[] = [];
      for (let b = 0; b < buckets.length; b++) {
        parts.push(
          encodePartial(
            aggregate.kind,
            state.windowedNum ?? [],
            b * compiled.windowedNumInit.length + aggregate.numOffset,
            state.windowedRef ?? [],
            b * compiled.windowedRefWidth + aggregate.refOffset,
          ),
        );
      }
      windowed[aggregate.key] = { sig: aggregate.signature, parts };
    } else if (state.allTimeNum !== null && state.allTimeRef !== null) {
      allTime[aggregate.key] = {
        sig: aggregate.signature,
        part: encodePartial(
          aggregate.kind,
          state.allTimeNum,
          aggregate.numOffset,
          state.allTimeRef,
          aggregate.refOffset,
        ),
      };
    }
  }
  const identify: UserTraitStateJson['identify'] = {};
  if (state.identifyValues !== null && state.identifyAt !== null) {
    compiled.identifyPaths.forEach((path, slot) => {
      const value = state.identifyValues?.[slot];
      const at = state.identifyAt?.[slot];
      if (value !== undefined && at !== undefined) identify[path.text] = [at, value];
    });
  }
  return {
    v: USER_TRAIT_STATE_JSON_VERSION,
    firstSeenAt: finiteOrNull(state.firstSeenAt),
    lastSeenAt: finiteOrNull(state.lastSeenAt),
    lastActivityAt: finiteOrNull(state.lastActivityAt),
    horizonDay: state.horizonDay === NO_HORIZON ? null : state.horizonDay,
    buckets,
    windowed,
    allTime,
    identify,
  };
}

/**
 * Restores a state written by userTraitStateToJSON (validated: a corrupt record throws TraitStateDecodeError naming
 * the field). Partials of definitions that no longer exist are ignored; see userTraitStateJsonSchema for changed ones.
 */
export function userTraitStateFromJSON(json: unknown, compiled: CompiledTraits): UserTraitState {
  const parsed = userTraitStateJsonSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TraitStateDecodeError(issue?.path ?? [], issue?.message ?? 'invalid trait state');
  }
  const data = parsed.data;
  const state = createUserTraitState();
  state.firstSeenAt = data.firstSeenAt ?? Infinity;
  state.lastSeenAt = data.lastSeenAt ?? -Infinity;
  state.lastActivityAt = data.lastActivityAt ?? -Infinity;
  state.horizonDay = data.horizonDay ?? NO_HORIZON;
  const window: number[] = [];
  for (const [day, activity, bucketIds] of data.buckets) {
    const unique = [...new Set(bucketIds)].sort((a, b) => a - b);
    window.push(day, bucketCounts(activity, unique.length), ...unique);
  }
  if (window.length > 0) {
    state.window = window.slice();
    state.windowLength = window.length;
  }

  const bucketCount = data.buckets.length;
  const numWidth = compiled.windowedNumInit.length;
  const refWidth = compiled.windowedRefWidth;
  if (bucketCount > 0 && numWidth > 0) {
    state.windowedNum = Array.from({ length: bucketCount }, () => compiled.windowedNumInit).flat();
  }
  if (bucketCount > 0 && refWidth > 0) state.windowedRef = new Array<AggregateRef>(bucketCount * refWidth).fill(null);
  let allTimeTouched = false;
  const allTimeNum = compiled.allTimeNumInit.slice();
  const allTimeRef = new Array<AggregateRef>(compiled.allTimeRefWidth).fill(null);

  for (const aggregate of compiled.aggregates) {
    if (aggregate.windowDays > 0) {
      const saved = data.windowed[aggregate.key];
      if (saved?.sig !== aggregate.signature) continue;
      if (saved.parts.length !== bucketCount) {
        throw new TraitStateDecodeError(
          ['windowed', aggregate.key, 'parts'],
          `expected ${bucketCount} parts, one per bucket`,
        );
      }
      saved.parts.forEach((part, b) => {
        decodePartial(
          aggregate,
          part,
          state.windowedNum ?? [],
          b * numWidth + aggregate.numOffset,
          state.windowedRef ?? [],
          b * refWidth + aggregate.refOffset,
          ['windowed', aggregate.key, 'parts', b],
        );
      });
    } else {
      const saved = data.allTime[aggregate.key];
      if (saved?.sig !== aggregate.signature) continue;
      decodePartial(aggregate, saved.part, allTimeNum, aggregate.numOffset, allTimeRef, aggregate.refOffset, [
        'allTime',
        aggregate.key,
        'part',
      ]);
      allTimeTouched = true;
    }
  }
  if (allTimeTouched) {
    state.allTimeNum = allTimeNum;
    state.allTimeRef = allTimeRef;
  }

  const paths = compiled.identifyPaths;
  paths.forEach((path, slot) => {
    const saved = data.identify[path.text];
    if (saved === undefined) return;
    setIdentifySlot(state, slot, saved[1], saved[0]);
  });
  return state;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function encodePartial(
  kind: AggregateKind,
  num: readonly number[],
  numAt: number,
  ref: readonly AggregateRef[],
  refAt: number,
): JsonValue {
  switch (kind) {
    case 'count':
    case 'sum':
      return num[numAt] as number;
    case 'avg':
      return [num[numAt] as number, num[numAt + 1] as number];
    case 'min':
    case 'max':
      return finiteOrNull(num[numAt] as number);
    case 'first':
    case 'last': {
      const at = num[numAt] as number;
      return Number.isFinite(at) ? [at, num[numAt + 1] as number, ref[refAt] ?? null] : null;
    }
    case 'most_frequent':
    case 'unique_list':
    case 'unique_count': {
      const counts = ref[refAt] as ValueCounts | null;
      return counts === null ? null : counts.slice();
    }
  }
}

const numberPartial = z.number();
const avgPartial = z.tuple([z.number(), z.number().min(0)]);
const extremePartial = z.number().nullable();
const pickPartial = z.tuple([z.number(), z.int(), jsonValueSchema]).nullable();
const countsPartial = z
  .array(z.union([z.string(), z.number()]))
  .refine(
    (flat) => flat.length % 2 === 0 && flat.every((item, i) => typeof item === (i % 2 === 0 ? 'string' : 'number')),
    {
      error: 'expected [value, count, value, count, …]',
    },
  )
  .nullable();

function decodePartial(
  aggregate: CompiledAggregate,
  part: JsonValue,
  num: number[],
  numAt: number,
  ref: AggregateRef[],
  refAt: number,
  path: readonly PropertyKey[],
): void {
  const fail = (error: z.ZodError): never => {
    const issue = error.issues[0];
    throw new TraitStateDecodeError([...path, ...(issue?.path ?? [])], issue?.message ?? 'invalid partial');
  };
  switch (aggregate.kind) {
    case 'count':
    case 'sum': {
      const r = numberPartial.safeParse(part);
      if (!r.success) return fail(r.error);
      num[numAt] = r.data;
      return;
    }
    case 'avg': {
      const r = avgPartial.safeParse(part);
      if (!r.success) return fail(r.error);
      num[numAt] = r.data[0];
      num[numAt + 1] = r.data[1];
      return;
    }
    case 'min':
    case 'max': {
      const r = extremePartial.safeParse(part);
      if (!r.success) return fail(r.error);
      num[numAt] = r.data ?? (aggregateLayout(aggregate.kind).num[0] as number);
      return;
    }
    case 'first':
    case 'last': {
      const r = pickPartial.safeParse(part);
      if (!r.success) return fail(r.error);
      if (r.data === null) return;
      num[numAt] = r.data[0];
      num[numAt + 1] = r.data[1];
      ref[refAt] = r.data[2];
      return;
    }
    case 'most_frequent':
    case 'unique_list':
    case 'unique_count': {
      const r = countsPartial.safeParse(part);
      if (!r.success) return fail(r.error);
      let counts: ValueCounts | null = null;
      const flat = r.data ?? [];
      for (let i = 0; i < flat.length; i += 2) counts = addValueCount(counts, flat[i] as string, flat[i + 1] as number);
      ref[refAt] = counts;
      return;
    }
  }
}

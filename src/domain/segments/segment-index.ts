import btree from 'sorted-btree';
import type { FieldValue, Profile } from '../profile/model.js';
import { combineSum, fractionUnits, wholePart } from './exact-sum.js';
import { fieldReader, type FieldReader } from './field-reader.js';
import { labelOfKey } from './label.js';
import { compileFamily, segmentIndexOf, type CompiledFamily, type Membership } from './membership.js';
import { InvalidSegmentConfigError, type SegmentFamily } from './segment-family.js';
import { SAMPLE_SIZE, topValues, type SegmentSummary } from './segment-summary.js';

// sorted-btree is CommonJS with `exports.default`: Node's ESM loader hands over `module.exports` as the default
// import, while bundler-style interop (vitest) hands over `exports.default` itself. Accept both.
type BTreeClass = typeof btree.default;
const btreeImport: unknown = btree;
const BTree: BTreeClass = typeof btreeImport === 'function' ? (btreeImport as BTreeClass) : btree.default;
type SampleTree = InstanceType<typeof BTree<string, number>>;

export class UnknownSegmentError extends Error {
  constructor(
    readonly family: string,
    readonly segment: string,
  ) {
    super(`no segment "${segment}" in segment family "${family}"`);
    this.name = 'UnknownSegmentError';
  }
}

/** Categorical values one member adds: a single value, the items of a list, or nothing. */
type Categories = string | readonly string[] | null;

/** What one member contributed to one family's bucket: exactly what must be subtracted when it leaves. */
interface Contribution {
  readonly segment: number;
  /** Per numeric field of the family's summary spec; NaN when the member has no value. */
  readonly numbers: readonly number[];
  readonly categories: readonly Categories[];
  readonly sampleId: string | null;
}

/** One entry per family; null where the member is outside the family. */
type MemberSnapshot = readonly (Contribution | null)[];

interface Bucket {
  count: number;
  readonly wholeSums: number[];
  readonly fractionSums: number[];
  readonly withValue: number[];
  readonly valueCounts: Map<string, number>[];
  /** Sample id → number of members with that id (ids from a field need not be unique). */
  readonly samples: SampleTree;
}

interface IndexedFamily {
  readonly name: string;
  readonly compiled: CompiledFamily;
  readonly labels: readonly string[];
  readonly segmentPositions: ReadonlyMap<string, number>;
  readonly numericFields: readonly string[];
  readonly numericReaders: readonly FieldReader[];
  readonly numericDefaults: readonly (number | undefined)[];
  readonly categoricalFields: readonly string[];
  readonly categoricalReaders: readonly FieldReader[];
  readonly sampleIdReader: FieldReader | null;
  readonly buckets: readonly Bucket[];
}

function numericValue(value: FieldValue | undefined, fallback: number | undefined): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === undefined || value === null) return fallback ?? Number.NaN;
  // A string or list is not a number: leave the member out of the average rather than guess.
  return Number.NaN;
}

function categoriesOf(value: FieldValue | undefined): Categories {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return value.length === 0 ? null : value;
  return null;
}

function sameCategories(a: Categories, b: Categories): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a === 'string' || typeof b === 'string') return false;
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

function sameContribution(a: Contribution | null, b: Contribution | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.segment === b.segment &&
    a.sampleId === b.sampleId &&
    a.numbers.every((n, i) => Object.is(n, b.numbers[i])) &&
    a.categories.every((c, i) => sameCategories(c, b.categories[i] ?? null))
  );
}

function newBucket(numericFields: number, categoricalFields: number): Bucket {
  return {
    count: 0,
    wholeSums: new Array<number>(numericFields).fill(0),
    fractionSums: new Array<number>(numericFields).fill(0),
    withValue: new Array<number>(numericFields).fill(0),
    valueCounts: Array.from({ length: categoricalFields }, () => new Map<string, number>()),
    samples: new BTree<string, number>(),
  };
}

function bump(counts: Map<string, number>, value: string, delta: number): void {
  if (value === '') return;
  const next = (counts.get(value) ?? 0) + delta;
  if (next === 0) counts.delete(value);
  else counts.set(value, next);
}

function indexFamily(family: SegmentFamily): IndexedFamily {
  const numeric = family.summary.numeric;
  const categorical = family.summary.categorical;
  const sampleField = family.summary.sample_id_field;
  return {
    name: family.name,
    compiled: compileFamily(family),
    labels: family.segments.map((segment) => segment.label ?? labelOfKey(segment.key)),
    segmentPositions: new Map(family.segments.map((segment, i) => [segment.key, i])),
    numericFields: numeric.map((spec) => spec.field),
    numericReaders: numeric.map((spec) => fieldReader(spec.field)),
    numericDefaults: numeric.map((spec) => ('default' in spec ? spec.default : undefined)),
    categoricalFields: [...categorical],
    categoricalReaders: categorical.map(fieldReader),
    sampleIdReader: sampleField === undefined ? null : fieldReader(sampleField),
    buckets: family.segments.map(() => newBucket(numeric.length, categorical.length)),
  };
}

/**
 * Segment summaries kept up to date one profile at a time. Each member's contribution is remembered, so an
 * update subtracts exactly what the member added before and adds its new contribution: no member is ever
 * rescanned, and the final state does not depend on the order of upserts and removes.
 */
export class SegmentIndex {
  private readonly families: readonly IndexedFamily[];
  private readonly familyPositions: ReadonlyMap<string, number>;
  private readonly members = new Map<string, MemberSnapshot>();

  constructor(families: readonly SegmentFamily[]) {
    this.families = families.map(indexFamily);
    this.familyPositions = new Map(families.map((family, i) => [family.name, i]));
    if (this.familyPositions.size !== families.length) {
      throw new InvalidSegmentConfigError([{ path: '', message: 'segment family names must be unique' }]);
    }
  }

  /** Number of profiles that belong to at least one segment. */
  get memberCount(): number {
    return this.members.size;
  }

  /** Adds a profile or replaces its previous version; a profile that matches no segment is dropped. */
  upsert(profile: Profile): void {
    const previous = this.members.get(profile.key);
    let next: (Contribution | null)[] | null = null;
    for (let f = 0; f < this.families.length; f++) {
      const family = this.families[f] as IndexedFamily;
      const before = previous?.[f] ?? null;
      const after = this.contributionOf(profile, family);
      if (after !== null) {
        next ??= new Array<Contribution | null>(this.families.length).fill(null);
        next[f] = after;
      }
      if (sameContribution(before, after)) continue;
      if (before !== null) this.apply(family, before, -1);
      if (after !== null) this.apply(family, after, 1);
    }
    if (next === null) this.members.delete(profile.key);
    else this.members.set(profile.key, next);
  }

  /** Removes a profile from every segment; false when it was not a member of any. */
  remove(profileKey: string): boolean {
    const previous = this.members.get(profileKey);
    if (previous === undefined) return false;
    previous.forEach((contribution, f) => {
      if (contribution !== null) this.apply(this.families[f] as IndexedFamily, contribution, -1);
    });
    this.members.delete(profileKey);
    return true;
  }

  /** The segments a stored profile currently belongs to, in family order. */
  membershipsOf(profileKey: string): Membership[] {
    const snapshot = this.members.get(profileKey);
    if (snapshot === undefined) return [];
    const out: Membership[] = [];
    snapshot.forEach((contribution, f) => {
      if (contribution === null) return;
      const family = this.families[f] as IndexedFamily;
      out.push({ family: family.name, segment: family.compiled.segmentKeys[contribution.segment] ?? '' });
    });
    return out;
  }

  summary(familyName: string, segmentKey: string): SegmentSummary {
    const f = this.familyPositions.get(familyName);
    const family = f === undefined ? undefined : this.families[f];
    const s = family?.segmentPositions.get(segmentKey);
    if (family === undefined || s === undefined) throw new UnknownSegmentError(familyName, segmentKey);
    return summarize(family, s);
  }

  /** Every configured segment (empty ones included, count 0), sorted by family name, then segment key. */
  summaries(): SegmentSummary[] {
    const out: SegmentSummary[] = [];
    for (const family of this.families) {
      for (let s = 0; s < family.buckets.length; s++) out.push(summarize(family, s));
    }
    return out.sort((a, b) => compareStrings(a.family, b.family) || compareStrings(a.segment, b.segment));
  }

  private contributionOf(profile: Profile, family: IndexedFamily): Contribution | null {
    const segment = segmentIndexOf(profile, family.compiled);
    if (segment < 0) return null;
    const fields = profile.fields;
    const numbers = family.numericReaders.map((read, i) => numericValue(read(fields), family.numericDefaults[i]));
    const categories = family.categoricalReaders.map((read) => categoriesOf(read(fields)));
    let sampleId: string | null = profile.entityId;
    if (family.sampleIdReader !== null) {
      const value = family.sampleIdReader(fields);
      sampleId = typeof value === 'string' && value !== '' ? value : null;
    }
    return { segment, numbers, categories, sampleId };
  }

  private apply(family: IndexedFamily, contribution: Contribution, sign: 1 | -1): void {
    const bucket = family.buckets[contribution.segment] as Bucket;
    bucket.count += sign;
    contribution.numbers.forEach((value, i) => {
      if (Number.isNaN(value)) return;
      bucket.wholeSums[i] = (bucket.wholeSums[i] ?? 0) + sign * wholePart(value);
      bucket.fractionSums[i] = (bucket.fractionSums[i] ?? 0) + sign * fractionUnits(value);
      bucket.withValue[i] = (bucket.withValue[i] ?? 0) + sign;
    });
    contribution.categories.forEach((categories, i) => {
      const counts = bucket.valueCounts[i] as Map<string, number>;
      if (categories === null) return;
      if (typeof categories === 'string') bump(counts, categories, sign);
      else for (const value of categories) bump(counts, value, sign);
    });
    if (contribution.sampleId !== null) {
      const id = contribution.sampleId;
      const next = (bucket.samples.get(id) ?? 0) + sign;
      if (next === 0) bucket.samples.delete(id);
      else bucket.samples.set(id, next);
    }
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function summarize(family: IndexedFamily, position: number): SegmentSummary {
  const bucket = family.buckets[position] as Bucket;
  const sums: [string, number][] = [];
  const averages: [string, number | null][] = [];
  family.numericFields.forEach((field, i) => {
    const withValue = bucket.withValue[i] ?? 0;
    const sum = combineSum(bucket.wholeSums[i] ?? 0, bucket.fractionSums[i] ?? 0);
    sums.push([field, sum]);
    averages.push([field, withValue === 0 ? null : sum / withValue]);
  });
  const sampleIds: string[] = [];
  for (const id of bucket.samples.keys()) {
    if (sampleIds.length === SAMPLE_SIZE) break;
    sampleIds.push(id);
  }
  return {
    family: family.name,
    segment: family.compiled.segmentKeys[position] ?? '',
    label: family.labels[position] ?? '',
    count: bucket.count,
    // fromEntries defines own properties, so a field named `__proto__` stays a plain key.
    sums: Object.fromEntries(sums),
    averages: Object.fromEntries(averages),
    top: Object.fromEntries(
      family.categoricalFields.map((field, i) => [field, topValues(bucket.valueCounts[i] ?? new Map())]),
    ),
    sampleIds,
  };
}

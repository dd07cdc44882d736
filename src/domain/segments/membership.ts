import type { Profile, ProfileKind } from '../profile/model.js';
import { compileCondition, type Predicate } from './condition.js';
import type { ProfileFields } from './field-reader.js';
import type { SegmentFamily } from './segment-family.js';

export interface CompiledFamily {
  readonly family: SegmentFamily;
  readonly kind: ProfileKind;
  readonly segmentKeys: readonly string[];
  /** Position in `family.segments` of the first segment the fields match, or -1 (outside the family). */
  readonly assign: (fields: ProfileFields) => number;
}

export interface Membership {
  readonly family: string;
  readonly segment: string;
}

const ALWAYS: Predicate = () => true;

function buildFamily(family: SegmentFamily): CompiledFamily {
  const where = family.where === undefined ? ALWAYS : compileCondition(family.where);
  const tests = family.segments.map((segment) =>
    segment.when === undefined ? ALWAYS : compileCondition(segment.when),
  );
  const count = tests.length;
  return {
    family,
    kind: family.kind,
    segmentKeys: family.segments.map((segment) => segment.key),
    assign: (fields) => {
      if (!where(fields)) return -1;
      for (let i = 0; i < count; i++) {
        if ((tests[i] as Predicate)(fields)) return i;
      }
      return -1;
    },
  };
}

const compiled = new WeakMap<SegmentFamily, CompiledFamily>();

/** Compiles a family's conditions into closures once per family object; later calls reuse them. */
export function compileFamily(family: SegmentFamily): CompiledFamily {
  let found = compiled.get(family);
  if (found === undefined) {
    found = buildFamily(family);
    compiled.set(family, found);
  }
  return found;
}

/** Index of the profile's segment in the family, or -1 when the profile is outside the family. */
export function segmentIndexOf(profile: Profile, family: CompiledFamily): number {
  return profile.kind === family.kind ? family.assign(profile.fields) : -1;
}

/** The key of the one segment of `family` the profile belongs to, or null. */
export function segmentOf(profile: Profile, family: SegmentFamily): string | null {
  const compiledFamily = compileFamily(family);
  const index = segmentIndexOf(profile, compiledFamily);
  return index < 0 ? null : (compiledFamily.segmentKeys[index] ?? null);
}

/** The profile's segment in each family it belongs to, in the order of `families`. */
export function memberships(profile: Profile, families: readonly SegmentFamily[]): Membership[] {
  const out: Membership[] = [];
  for (const family of families) {
    const segment = segmentOf(profile, family);
    if (segment !== null) out.push({ family: family.name, segment });
  }
  return out;
}

import { canonicalJson } from './canonical-json.js';
import { shortHash } from '../hash.js';
import { compilePropertyPath, type PropertyPath } from './property-path.js';
import { traitDefinitionsSchema, type EventTraitDefinition, type TraitDefinition } from './trait-definition.js';
import { compileWhere, type PropertiesPredicate } from './where-predicate.js';

export type AggregateKind = EventTraitDefinition['type'];

/** The activity window of the churn_risk and engagement_tier builtins. */
export const ACTIVITY_WINDOW_DAYS = 30;

/**
 * An event-based definition ready to apply: where its partial aggregate lives in the numeric and reference slot
 * arrays (per day bucket when windowed, in the all-time accumulator otherwise).
 */
export interface CompiledAggregate {
  readonly key: string;
  readonly kind: AggregateKind;
  /** null for count, and for first/last without a property (they then record the event time). */
  readonly property: PropertyPath | null;
  readonly where: PropertiesPredicate | null;
  /** 0 = all time. */
  readonly windowDays: number;
  readonly numOffset: number;
  readonly refOffset: number;
  /** Changes whenever the definition's meaning changes: a restored partial with another signature is discarded. */
  readonly signature: string;
}

export type CompiledOutput =
  | {
      readonly kind: 'aggregate';
      readonly key: string;
      readonly aggregate: CompiledAggregate;
      readonly identifySlot: number;
    }
  | { readonly kind: 'identify'; readonly key: string; readonly slots: readonly number[] }
  | { readonly kind: 'churn_risk' | 'engagement_tier'; readonly key: string; readonly identifySlot: number };

export interface EventDispatch {
  /** Definitions for one event (or page/screen) name. */
  readonly byName: ReadonlyMap<string, readonly CompiledAggregate[]>;
  /** Definitions without an event name: every call of that type. */
  readonly any: readonly CompiledAggregate[];
}

export interface CompiledTraits {
  readonly definitions: readonly TraitDefinition[];
  /** Evaluation order = definition order; `identifySlot` is −1 when identify precedence is off. */
  readonly outputs: readonly CompiledOutput[];
  readonly aggregates: readonly CompiledAggregate[];
  readonly dispatch: { readonly track: EventDispatch; readonly page: EventDispatch; readonly screen: EventDispatch };
  /** Initial numeric slots of one day bucket (windowed aggregates) and of the all-time accumulator. */
  readonly windowedNumInit: readonly number[];
  readonly windowedRefWidth: number;
  /** A fresh bucket's windowed refs: `windowedRefWidth` nulls. */
  readonly windowedRefInit: readonly null[];
  readonly allTimeNumInit: readonly number[];
  readonly allTimeRefWidth: number;
  /** Identify trait paths whose newest value is kept, by slot. */
  readonly identifyPaths: readonly PropertyPath[];
  /** Slot of `email`, copied to the output when no definition is keyed `email`; −1 otherwise. */
  readonly implicitEmailSlot: number;
  /** Longest window any output reads (the builtins read ACTIVITY_WINDOW_DAYS); 0 when all are all-time. */
  readonly longestWindowDays: number;
  /** Changes when any definition changes: lets the processor detect that a replay is needed after a config change. */
  readonly fingerprint: string;
}

/** Numeric and reference slot widths and initial numeric values of each kind. */
const LAYOUT: Readonly<Record<AggregateKind, { readonly num: readonly number[]; readonly refs: number }>> = {
  count: { num: [0], refs: 0 },
  sum: { num: [0], refs: 0 },
  avg: { num: [0, 0], refs: 0 },
  min: { num: [Infinity], refs: 0 },
  max: { num: [-Infinity], refs: 0 },
  first: { num: [Infinity, 0], refs: 1 },
  last: { num: [-Infinity, 0], refs: 1 },
  most_frequent: { num: [], refs: 1 },
  unique_list: { num: [], refs: 1 },
  unique_count: { num: [], refs: 1 },
};

export function aggregateLayout(kind: AggregateKind): { readonly num: readonly number[]; readonly refs: number } {
  return LAYOUT[kind];
}

export class TraitDefinitionError extends Error {
  constructor(
    readonly path: readonly PropertyKey[],
    detail: string,
  ) {
    super(`trait definitions${path.map((p) => `[${String(p)}]`).join('')}: ${detail}`);
    this.name = 'TraitDefinitionError';
  }
}

/**
 * Precomputes everything applying a message needs: per-event-name dispatch (so a message only visits the
 * definitions that read it), slot layouts and identify paths. Validates the definitions again (they may come
 * from code rather than a parsed config) and throws TraitDefinitionError naming the offending entry.
 */
export function compileTraitDefinitions(input: readonly TraitDefinition[]): CompiledTraits {
  const checked = traitDefinitionsSchema.safeParse(input);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new TraitDefinitionError(issue?.path ?? [], issue?.message ?? 'invalid trait definitions');
  }
  const definitions = checked.data;

  const identifyPaths: PropertyPath[] = [];
  const identifySlotOf = (text: string): number => {
    const existing = identifyPaths.findIndex((path) => path.text === text);
    if (existing >= 0) return existing;
    identifyPaths.push(compilePropertyPath(text));
    return identifyPaths.length - 1;
  };

  // Paths copied by identify definitions (and email) take the lowest slots and identify precedence keys the rest:
  // per-user slot arrays only grow to the highest slot a user's identify calls actually set.
  const identifyPathsOf = (trait: string | readonly string[]): readonly string[] =>
    typeof trait === 'string' ? [trait] : trait;
  for (const definition of definitions) {
    if (definition.type === 'identify') identifyPathsOf(definition.trait).forEach(identifySlotOf);
  }
  const implicitEmailSlot = definitions.some((definition) => definition.key === 'email') ? -1 : identifySlotOf('email');

  const windowedNumInit: number[] = [];
  const allTimeNumInit: number[] = [];
  let windowedRefWidth = 0;
  let allTimeRefWidth = 0;
  let longestWindowDays = 0;
  const aggregates: CompiledAggregate[] = [];
  const outputs: CompiledOutput[] = [];
  const dispatch = { track: new DispatchBuilder(), page: new DispatchBuilder(), screen: new DispatchBuilder() };

  for (const definition of definitions) {
    const preferredSlot = (): number => (definition.prefer_identify ? identifySlotOf(definition.key) : -1);
    switch (definition.type) {
      case 'identify': {
        outputs.push({
          kind: 'identify',
          key: definition.key,
          slots: identifyPathsOf(definition.trait).map(identifySlotOf),
        });
        break;
      }
      case 'churn_risk':
      case 'engagement_tier':
        longestWindowDays = Math.max(longestWindowDays, ACTIVITY_WINDOW_DAYS);
        outputs.push({ kind: definition.type, key: definition.key, identifySlot: preferredSlot() });
        break;
      case 'count':
      case 'sum':
      case 'avg':
      case 'min':
      case 'max':
      case 'first':
      case 'last':
      case 'most_frequent':
      case 'unique_list':
      case 'unique_count': {
        const layout = LAYOUT[definition.type];
        const windowDays = definition.within_days ?? 0;
        const numInit = windowDays > 0 ? windowedNumInit : allTimeNumInit;
        const refOffset = windowDays > 0 ? windowedRefWidth : allTimeRefWidth;
        const aggregate: CompiledAggregate = {
          key: definition.key,
          kind: definition.type,
          property:
            'property' in definition && definition.property !== undefined
              ? compilePropertyPath(definition.property)
              : null,
          where: compileWhere(definition.where),
          windowDays,
          numOffset: numInit.length,
          refOffset,
          signature: aggregateSignature(definition),
        };
        numInit.push(...layout.num);
        if (windowDays > 0) {
          windowedRefWidth += layout.refs;
          longestWindowDays = Math.max(longestWindowDays, windowDays);
        } else {
          allTimeRefWidth += layout.refs;
        }
        aggregates.push(aggregate);
        dispatch[definition.message_type].add(definition.event ?? null, aggregate);
        outputs.push({ kind: 'aggregate', key: definition.key, aggregate, identifySlot: preferredSlot() });
      }
    }
  }
  return {
    definitions,
    outputs,
    aggregates,
    dispatch: { track: dispatch.track.build(), page: dispatch.page.build(), screen: dispatch.screen.build() },
    windowedNumInit,
    windowedRefWidth,
    windowedRefInit: new Array<null>(windowedRefWidth).fill(null),
    allTimeNumInit,
    allTimeRefWidth,
    identifyPaths,
    implicitEmailSlot,
    longestWindowDays,
    fingerprint: shortHash(canonicalJson(definitions)),
  };
}

/** The definition minus what does not change its partial aggregate (key, identify precedence). */
function aggregateSignature(definition: EventTraitDefinition): string {
  const { key: _key, prefer_identify: _preferIdentify, ...meaning } = definition;
  return shortHash(canonicalJson(meaning));
}

class DispatchBuilder {
  private readonly byName = new Map<string, CompiledAggregate[]>();
  private readonly any: CompiledAggregate[] = [];

  add(name: string | null, aggregate: CompiledAggregate): void {
    if (name === null) {
      this.any.push(aggregate);
      return;
    }
    const list = this.byName.get(name);
    if (list === undefined) this.byName.set(name, [aggregate]);
    else list.push(aggregate);
  }

  build(): EventDispatch {
    return { byName: this.byName, any: this.any };
  }
}

import type { Profile } from '../profile/model.js';
import { decidePersonaUpdate, renderPersona, type MaveraPersonaPayload } from '../personas/index.js';
import type { PersonaUpdateDecision } from '../personas/index.js';
import type { CustomerState } from '../revenue/customer-state.js';
import type { SegmentMessage } from '../segment/model.js';
import { SegmentIndex, type SegmentSummary } from '../segments/index.js';
import type { StripeFact } from '../stripe/model.js';
import type { EpochMs } from '../time.js';
import {
  applySegmentMessageToState,
  advanceEntity,
  applyStripeFact,
  createCustomerState,
  createUserState,
  deriveProfile,
  type Pipeline,
  type UserState,
} from './pipeline.js';

/** One input of an offline run: the facts of one Stripe event, or one Segment message. */
export type DomainInput =
  | { readonly source: 'stripe'; readonly facts: readonly StripeFact[] }
  | { readonly source: 'segment'; readonly message: SegmentMessage };

export interface PersonaPlan {
  readonly family: string;
  readonly segment: string;
  readonly payload: MaveraPersonaPayload;
  readonly decision: PersonaUpdateDecision;
}

export interface OfflineRunResult {
  /** The instant every time-dependent rule was evaluated at. */
  readonly at: EpochMs;
  /** How many inputs changed some state (duplicates and stale snapshots do not). */
  readonly applied: number;
  readonly profiles: readonly Profile[];
  readonly summaries: readonly SegmentSummary[];
  /** One entry per segment large enough for a persona, with what would be sent to Mavera on a first run. */
  readonly personas: readonly PersonaPlan[];
}

export interface EntityStatesOptions {
  /**
   * Advance each touched entity to the stream time (the newest event time seen so far), as the processor does with
   * its partition watermark: bounded memory for in-order streams. Off for `simulate`, whose input may come in any
   * order: there every event, however late, is still deduplicated and windowed.
   */
  readonly advanceWithStreamTime?: boolean;
}

/** Holds the entity states of an offline run: the same reducer the processor drives, without Kafka. */
export class EntityStates {
  readonly customers = new Map<string, CustomerState>();
  readonly users = new Map<string, UserState>();
  private newestEventAt = Number.NEGATIVE_INFINITY;
  private readonly advance: boolean;

  constructor(
    private readonly pipeline: Pipeline,
    options: EntityStatesOptions = {},
  ) {
    this.advance = options.advanceWithStreamTime ?? false;
  }

  get size(): number {
    return this.customers.size + this.users.size;
  }

  apply(input: DomainInput): boolean {
    if (input.source === 'segment') {
      const message = input.message;
      let state = this.users.get(message.entityKey);
      if (state === undefined) {
        state = createUserState(message.entityKey);
        this.users.set(message.entityKey, state);
      }
      if (message.timestamp > this.newestEventAt) this.newestEventAt = message.timestamp;
      const changed = applySegmentMessageToState(this.pipeline, state, message);
      if (this.advance) advanceEntity(this.pipeline, state, this.newestEventAt);
      return changed;
    }
    let changed = false;
    for (const fact of input.facts) {
      let state = this.customers.get(fact.customerId);
      if (state === undefined) {
        state = createCustomerState(fact.customerId);
        this.customers.set(fact.customerId, state);
      }
      if (fact.at > this.newestEventAt) this.newestEventAt = fact.at;
      if (applyStripeFact(state, fact)) changed = true;
    }
    return changed;
  }

  /** The newest event time seen, or undefined before any input. */
  get newestEventTime(): EpochMs | undefined {
    return Number.isFinite(this.newestEventAt) ? this.newestEventAt : undefined;
  }

  /** Every entity's profile as of `at`, ordered by profile key. */
  profiles(at: EpochMs): Profile[] {
    const profiles: Profile[] = [];
    for (const state of this.customers.values()) profiles.push(deriveProfile(this.pipeline, state, at));
    for (const state of this.users.values()) profiles.push(deriveProfile(this.pipeline, state, at));
    return profiles.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

/**
 * Runs the whole domain core over a set of inputs: states, profiles as of `at` (default: the newest event time),
 * segment summaries, and the persona payloads a first flush would create.
 */
export function runOffline(pipeline: Pipeline, inputs: Iterable<DomainInput>, at?: EpochMs): OfflineRunResult {
  const states = new EntityStates(pipeline);
  let applied = 0;
  for (const input of inputs) {
    if (states.apply(input)) applied++;
  }
  const evaluationTime = at ?? states.newestEventTime ?? 0;
  const profiles = states.profiles(evaluationTime);
  const { summaries, personas } = summarize(pipeline, profiles);
  return { at: evaluationTime, applied, profiles, summaries, personas };
}

/** Segment summaries of a set of profiles and the persona payloads they give. */
export function summarize(
  pipeline: Pipeline,
  profiles: readonly Profile[],
): { summaries: SegmentSummary[]; personas: PersonaPlan[] } {
  const index = new SegmentIndex(pipeline.config.segments);
  for (const profile of profiles) index.upsert(profile);
  const summaries = index.summaries();
  const personas: PersonaPlan[] = [];
  for (const summary of summaries) {
    const family = pipeline.config.segments.find((candidate) => candidate.name === summary.family);
    if (family === undefined) continue;
    const payload = renderPersona(family, summary, pipeline.config.personas);
    if (payload === null) continue;
    const decision = decidePersonaUpdate(undefined, { payload, summary }, pipeline.config.personas);
    personas.push({ family: summary.family, segment: summary.segment, payload, decision });
  }
  return { summaries, personas };
}

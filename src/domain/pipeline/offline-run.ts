import type { Profile } from '../profile/model.js';
import { decidePersonaUpdate, renderPersona, type MaveraPersonaPayload } from '../personas/index.js';
import type { PersonaUpdateDecision } from '../personas/index.js';
import { SegmentIndex, type SegmentSummary } from '../segments/index.js';
import type { EpochMs } from '../time.js';
import type { DomainInput } from './domain-input.js';
import { EntityStates } from './entity-states.js';
import type { Pipeline } from './pipeline.js';

/** Inputs applied per EntityStates.applyBatch call. */
const BATCH = 1_024;

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

/**
 * Runs the whole domain core over a set of inputs: states, profiles as of `at` (default: the newest event time),
 * segment summaries, and the persona payloads a first flush would create.
 */
export function runOffline(pipeline: Pipeline, inputs: Iterable<DomainInput>, at?: EpochMs): OfflineRunResult {
  const states = new EntityStates(pipeline);
  let applied = 0;
  let batch: DomainInput[] = [];
  for (const input of inputs) {
    batch.push(input);
    if (batch.length === BATCH) {
      applied += states.applyBatch(batch);
      batch = [];
    }
  }
  applied += states.applyBatch(batch);
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

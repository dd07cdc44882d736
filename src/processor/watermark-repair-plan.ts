import { advanceEntity, deriveProfile, rewindEntity, type Pipeline } from '../domain/pipeline/pipeline.js';
import type { EpochMs } from '../domain/time.js';
import { profileToRecord, type ProfileRecord } from '../records/profile-record.js';
import { profileHash, type EntityStateCodec } from './partition-processor.js';
import type { StoredEntity } from './state-store.js';

/** What repairing one partition's watermark to `target` needs to know besides each entity. */
export interface RepairContext {
  readonly pipeline: Pipeline;
  readonly codec: EntityStateCodec;
  readonly target: EpochMs;
  /** Profile key → `as_of` of its newest record in the profiles table (the partition's keys). */
  readonly tableAsOf: ReadonlyMap<string, number>;
}

/** One entity once its partition's time is `target`: what to write, and what the repair cannot undo. */
export interface EntityRepair {
  /** The entity's new stored form (changelog and local store); undefined when neither state nor profile changed. */
  readonly stored: StoredEntity | undefined;
  /** Its profile judged at `target`; undefined when the table already holds it as of no later than that. */
  readonly profile: ProfileRecord | undefined;
  /** A user whose horizon the runaway watermark had carried past `target`: moved back (rewindTraitHorizon). */
  readonly rewound: boolean;
  /** The state holds events after `target` (the runaway events themselves): only a replay removes them. */
  readonly eventsAfterTarget: boolean;
  /** The table's profile had been judged after `target`. */
  readonly judgedAfterTarget: boolean;
}

/**
 * One entity of a partition whose watermark ran ahead, brought back to `target` as the processor would hold it had
 * the watermark been `target`: a user's horizon moved back, the state advanced to `target`, the profile derived then.
 * The profile is written when the table's was judged after `target` (the `as_of` the issue is about) or when its
 * content differs from the stored hash; the state is written with it, or when its horizon moved.
 */
export function repairEntity(key: string, stored: StoredEntity, context: RepairContext): EntityRepair {
  const { pipeline, codec, target } = context;
  const state = codec.decode(stored.state);
  const rewound = rewindEntity(pipeline, state, target);
  advanceEntity(pipeline, state, target);
  const profile = profileToRecord(deriveProfile(pipeline, state, target));
  const hash = profileHash(profile);
  const judgedAfterTarget = (context.tableAsOf.get(key) ?? Number.NEGATIVE_INFINITY) > target;
  const emit = judgedAfterTarget || hash !== stored.profileHash;
  return {
    stored: emit || rewound ? { profileHash: hash, state: codec.encode(state) } : undefined,
    profile: emit ? profile : undefined,
    rewound,
    eventsAfterTarget: profile.last_event_at > target,
    judgedAfterTarget,
  };
}

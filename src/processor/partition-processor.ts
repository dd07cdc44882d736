import { RecordDecodeError } from '../adapters/kafka/record-serde.js';
import { fnv1a32 } from '../domain/hash.js';
import {
  advanceEntity,
  applySegmentMessageToState,
  applyStripeFact,
  createCustomerState,
  createUserState,
  deriveProfile,
  userStateKey,
  type EntityState,
  type Pipeline,
} from '../domain/pipeline/pipeline.js';
import { profileKey } from '../domain/profile/model.js';
import type { CanonicalEvent } from '../records/canonical-event.js';
import { encodeDeadLetterValue, type DeadLetter } from '../records/dead-letter.js';
import { profileToRecord, type ProfileRecord } from '../records/profile-record.js';
import { CanonicalEventError, decodeCanonicalEvent } from '../sources/canonical-events.js';
import {
  FUTURE_EVENT_CODE,
  futureEventReason,
  latestAcceptedEventTime,
  newestEventTime,
} from './future-event-guard.js';
import type { InputPositions, StateStore, StoredEntity } from './state-store.js';

/** Turns a state into bytes and back, exactly (src/domain/state). */
export interface EntityStateCodec {
  encode(state: EntityState): Uint8Array;
  decode(bytes: Uint8Array): EntityState;
}

export interface InputRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The Kafka record timestamp (epoch ms, as kafkajs reports it): when the record was published. */
  readonly timestamp?: string;
}

/** What one batch produced: written to the changelog, profiles and dead-letter topics before its offsets commit. */
export interface BatchOutcome {
  /** State key → the entity's new stored form (changelog record and local store entry). */
  readonly entities: Map<string, StoredEntity>;
  readonly profiles: ProfileRecord[];
  readonly deadLetters: DeadLetter[];
  readonly applied: number;
  readonly duplicates: number;
  /** Input records left out because the state already held their effect (see `process`). */
  readonly skipped: number;
  readonly watermark: number;
  /** The input positions the outcome's states hold; undefined when no input record was read (the stored ones stand). */
  readonly inputs: InputPositions | undefined;
}

export interface PartitionProcessorOptions {
  readonly partition: number;
  readonly pipeline: Pipeline;
  readonly codec: EntityStateCodec;
  readonly store: StateStore;
  readonly decodeEvent: (value: Buffer) => Promise<CanonicalEvent>;
  /**
   * Event-time resolution at which untouched entities are re-evaluated (inactivity, rolling windows): when the
   * watermark enters a new period, every entity of the partition is re-derived once the partition is caught up.
   */
  readonly refreshIntervalMs: number;
  /**
   * How far past the earlier of a record's publish time and the wall clock its event time may lie
   * (MAX_EVENT_TIME_SKEW_MS): a record beyond it is dead-lettered and leaves the watermark where it is.
   */
  readonly maxEventTimeSkewMs: number;
  readonly watermark: number;
  /**
   * A replay into a fresh state generation: no profile is derived or emitted while events are applied (a profile
   * of the replay's past would overwrite the live one with an older view); `release` emits them once at the end.
   */
  readonly holdProfiles?: boolean;
  /**
   * Hash of the profile the profiles topic already holds for a key the store has never held (the live table, in a
   * replay): the stored hash starts there, so only a profile that differs from it is emitted. Default: none (0).
   */
  readonly profileBaseline?: (key: string) => number;
}

/** One page of `release`: its outcome, and the last key it visited (undefined once the partition is done). */
export interface ReleasePage {
  readonly outcome: BatchOutcome;
  readonly last: string | undefined;
}

interface Working {
  state: EntityState;
  profileHash: number;
}

/**
 * The processor's work for one partition: the domain reducer per entity key over a batch of canonical events,
 * with the partition's event-time watermark. It reads the local store but never writes it: the caller makes the
 * outcome durable (changelog, then offsets, then the store) so a crash at any point replays harmlessly.
 */
export class PartitionProcessor {
  readonly partition: number;
  private watermarkValue: number;
  private refreshedPeriod: number;

  constructor(private readonly options: PartitionProcessorOptions) {
    this.partition = options.partition;
    this.watermarkValue = options.watermark;
    this.refreshedPeriod = this.periodOf(options.watermark);
  }

  get watermark(): number {
    return this.watermarkValue;
  }

  /**
   * Applies a batch of input records. A record before the stored input position of its topic is skipped: the state
   * already holds its effect. That is the replay of a batch whose changelog write was acknowledged but whose offset
   * commit was not (a crash or a lost partition in between): the restored state includes it, the group re-delivers
   * it. Event-id deduplication cannot be relied on for that, since it is bounded: a Segment message older than the
   * state's horizon (the longest window plus lateness_days before the watermark, which the batch itself advanced)
   * is counted again, and one real-broker fetch can span months of event time.
   *
   * A record from the future (its event time past the latest accepted, see future-event-guard.ts) is dead-lettered
   * like any record that cannot be applied, and leaves the watermark where it is.
   */
  async process(records: readonly InputRecord[], now: number, caughtUp: boolean): Promise<BatchOutcome> {
    const working = new Map<string, Working>();
    const deadLetters: DeadLetter[] = [];
    // The store's positions, not in-memory ones: a batch whose persist failed is retried onto the stored state.
    const held = this.options.store.checkpoint(this.partition)?.inputs ?? {};
    // The last offset read per topic; the positions are worked out once, after the loop, not per record.
    const lastRead = new Map<string, string>();
    let applied = 0;
    let duplicates = 0;
    let skipped = 0;
    for (const record of records) {
      if (heldBy(held, record)) {
        skipped += 1;
        continue;
      }
      lastRead.set(record.topic, record.offset);
      const rejection = (code: string, reason: string): DeadLetter => ({
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        key: record.key === null ? null : record.key.toString('utf8'),
        reason,
        error_code: code,
        value: encodeDeadLetterValue(record.value),
        at: now,
      });
      if (record.value === null) {
        deadLetters.push(rejection('empty_value', 'record has no value'));
        continue;
      }
      let event: CanonicalEvent;
      try {
        event = await this.options.decodeEvent(record.value);
      } catch (error) {
        if (!(error instanceof RecordDecodeError)) throw error;
        deadLetters.push(rejection(error.code, error.message));
        continue;
      }
      const inputs = decodeCanonicalEvent(event);
      if (inputs instanceof CanonicalEventError) {
        deadLetters.push(rejection(inputs.code, inputs.message));
        continue;
      }
      const latest = latestAcceptedEventTime(now, record.timestamp, this.options.maxEventTimeSkewMs);
      const eventTime = newestEventTime(event, inputs);
      if (!(eventTime <= latest)) {
        const reason = futureEventReason(eventTime, latest, this.options.maxEventTimeSkewMs);
        deadLetters.push(rejection(FUTURE_EVENT_CODE, reason));
        continue;
      }
      if (event.occurred_at > this.watermarkValue) this.watermarkValue = event.occurred_at;
      for (const input of inputs) {
        if (input.source === 'segment') {
          const entry = this.load(working, userStateKey(input.message.entityKey), () =>
            createUserState(input.message.entityKey),
          );
          if (entry.state.kind !== 'user') throw new TypeError('a user key holds a customer state');
          if (applySegmentMessageToState(this.options.pipeline, entry.state, input.message)) applied += 1;
          else duplicates += 1;
          continue;
        }
        for (const fact of input.facts) {
          const key = profileKey('customer', fact.customerId);
          const entry = this.load(working, key, () => createCustomerState(fact.customerId));
          if (entry.state.kind !== 'customer') throw new TypeError('a customer key holds a user state');
          if (applyStripeFact(entry.state, fact)) applied += 1;
          else duplicates += 1;
        }
      }
    }

    const entities = new Map<string, StoredEntity>();
    const profiles: ProfileRecord[] = [];
    for (const [key, entry] of working) this.settle(key, entry, entities, profiles, true);
    if (caughtUp) this.refreshIfDue(working, entities, profiles);
    const watermark = this.watermarkValue;
    const inputs = records.length > 0 ? nextPositions(held, lastRead) : undefined;
    return { entities, profiles, deadLetters, applied, duplicates, skipped, watermark, inputs };
  }

  /**
   * The end of a held run (holdProfiles): derives up to `limit` stored entities after key `after` at the watermark
   * and emits each profile that differs from the stored hash (the baseline). Every visited entity is in the
   * outcome, as stored when its profile did not change: the new generation's changelog gets each entity once.
   */
  release(after: string | undefined, limit: number): ReleasePage {
    const entities = new Map<string, StoredEntity>();
    const profiles: ProfileRecord[] = [];
    let last: string | undefined;
    let visited = 0;
    for (const [key, stored] of this.options.store.entries(this.partition, after)) {
      const entry: Working = { state: this.options.codec.decode(stored.state), profileHash: stored.profileHash };
      this.derive(key, entry, entities, profiles, false);
      if (!entities.has(key)) entities.set(key, stored);
      last = key;
      if (++visited === limit) break;
    }
    const outcome = this.outcomeWithoutInput(entities, profiles);
    return { outcome, last: visited === limit ? last : undefined };
  }

  /**
   * Moves the partition's time forward without an event (the wall-clock tick of an idle, caught-up partition), so
   * a user can leave "active" while nothing arrives.
   */
  advanceTo(time: number): BatchOutcome {
    const entities = new Map<string, StoredEntity>();
    const profiles: ProfileRecord[] = [];
    if (time > this.watermarkValue) {
      this.watermarkValue = time;
      this.refreshIfDue(new Map(), entities, profiles);
    }
    return this.outcomeWithoutInput(entities, profiles);
  }

  private outcomeWithoutInput(entities: Map<string, StoredEntity>, profiles: ProfileRecord[]): BatchOutcome {
    const watermark = this.watermarkValue;
    return { entities, profiles, deadLetters: [], applied: 0, duplicates: 0, skipped: 0, watermark, inputs: undefined };
  }

  private periodOf(time: number): number {
    return Number.isFinite(time) ? Math.floor(time / this.options.refreshIntervalMs) : Number.NEGATIVE_INFINITY;
  }

  private refreshIfDue(
    handled: ReadonlyMap<string, Working>,
    entities: Map<string, StoredEntity>,
    profiles: ProfileRecord[],
  ): void {
    const period = this.periodOf(this.watermarkValue);
    if (period <= this.refreshedPeriod || this.options.holdProfiles === true) return;
    this.refreshedPeriod = period;
    for (const [key, stored] of this.options.store.entries(this.partition)) {
      if (handled.has(key)) continue;
      const entry: Working = { state: this.options.codec.decode(stored.state), profileHash: stored.profileHash };
      this.settle(key, entry, entities, profiles, false);
    }
  }

  /** Advances the entity to the watermark and derives its profile (unless held); records what must be written. */
  private settle(
    key: string,
    entry: Working,
    entities: Map<string, StoredEntity>,
    profiles: ProfileRecord[],
    touched: boolean,
  ): void {
    if (this.options.holdProfiles !== true) {
      this.derive(key, entry, entities, profiles, touched);
      return;
    }
    advanceEntity(this.options.pipeline, entry.state, this.watermarkValue);
    if (touched) entities.set(key, { profileHash: entry.profileHash, state: this.options.codec.encode(entry.state) });
  }

  private derive(
    key: string,
    entry: Working,
    entities: Map<string, StoredEntity>,
    profiles: ProfileRecord[],
    touched: boolean,
  ): void {
    const { pipeline, codec } = this.options;
    advanceEntity(pipeline, entry.state, this.watermarkValue);
    const profile = profileToRecord(deriveProfile(pipeline, entry.state, this.watermarkValue));
    const hash = profileHash(profile);
    const profileChanged = hash !== entry.profileHash;
    if (profileChanged) profiles.push(profile);
    // An untouched entity whose profile did not move needs no write: the next event advances it anyway.
    if (touched || profileChanged) entities.set(key, { profileHash: hash, state: codec.encode(entry.state) });
  }

  private load(working: Map<string, Working>, key: string, create: () => EntityState): Working {
    let entry = working.get(key);
    if (entry !== undefined) return entry;
    const stored = this.options.store.get(this.partition, key);
    entry =
      stored === undefined
        ? { state: create(), profileHash: this.options.profileBaseline?.(key) ?? 0 }
        : { state: this.options.codec.decode(stored.state), profileHash: stored.profileHash };
    working.set(key, entry);
    return entry;
  }
}

/** The stored positions moved past the last offset read of each topic. */
function nextPositions(held: InputPositions, lastRead: ReadonlyMap<string, string>): InputPositions {
  const positions: Record<string, string> = { ...held };
  for (const [topic, offset] of lastRead) positions[topic] = (BigInt(offset) + 1n).toString();
  return positions;
}

/** Whether the state already holds the record's effect: it lies before the stored position of its topic. */
export function heldBy(positions: InputPositions, record: Pick<InputRecord, 'topic' | 'offset'>): boolean {
  const next = positions[record.topic];
  return next !== undefined && BigInt(record.offset) < BigInt(next);
}

/** A profile's identity without its evaluation time: only a change of content makes a new profile record. */
export function profileHash(profile: ProfileRecord): number {
  return fnv1a32(JSON.stringify({ ...profile, as_of: 0 })) | 1;
}

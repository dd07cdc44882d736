import type { Profile } from '../profile/model.js';
import type { CustomerState } from '../revenue/customer-state.js';
import type { SegmentMessage } from '../segment/model.js';
import type { StripeFact } from '../stripe/model.js';
import type { EpochMs } from '../time.js';
import type { DomainInput } from './domain-input.js';
import { EntityIndex, entityKeyHash } from './entity-index.js';
import {
  advanceEntity,
  applySegmentMessageToState,
  applyStripeFact,
  createCustomerState,
  createUserState,
  deriveProfile,
  type Pipeline,
  type UserState,
} from './pipeline.js';

export interface EntityStatesOptions {
  /**
   * Advance each touched entity to the stream time (the newest event time seen so far), as the processor does with
   * its partition watermark: bounded memory for in-order streams. Off for `simulate`, whose input may come in any
   * order: there every event, however late, is still deduplicated and windowed.
   */
  readonly advanceWithStreamTime?: boolean;
}

/**
 * Inputs looked up ahead per group in applyBatch: enough misses in flight to keep the memory system busy, few enough
 * that the lines read ahead are still in L1/L2 when the group is applied.
 */
const GROUP = 16;

/** Holds the entity states of an offline run (and the reducer bench): the same reducer the processor drives, without Kafka. */
export class EntityStates {
  readonly customers = new EntityIndex<CustomerState>((state) => state.customerId);
  /** By entity key: the Segment userId, else anonymousId. */
  readonly users = new EntityIndex<UserState>((state) => state.entityKey);
  private newestEventAt = Number.NEGATIVE_INFINITY;
  private readonly advance: boolean;
  /** The key hash of each input of the group being applied (0: an input without an entity). */
  private readonly groupHashes = new Int32Array(GROUP);
  /** The state in each input's first index slot (usually its own), by kind. */
  private readonly userCandidates = new Array<UserState | undefined>(GROUP).fill(undefined);
  private readonly customerCandidates = new Array<CustomerState | undefined>(GROUP).fill(undefined);
  /** Receives the values read ahead, so the reads are not optimised away. */
  private readAhead = 0;

  constructor(
    private readonly pipeline: Pipeline,
    options: EntityStatesOptions = {},
  ) {
    this.advance = options.advanceWithStreamTime ?? false;
  }

  get size(): number {
    return this.customers.size + this.users.size;
  }

  /** Applies one input; false when it changed nothing (a duplicate, a stale snapshot). */
  apply(input: DomainInput): boolean {
    return input.source === 'segment'
      ? this.applySegment(input.message, input.keyHash)
      : this.applyStripe(input.facts, input.keyHash);
  }

  /**
   * Applies inputs in order, as apply would one by one, and returns how many changed something. With many entities
   * the reducer waits on memory, not arithmetic: each input's state is somewhere in a heap far larger than the
   * caches, and a lookup plus the state's first fields are a chain of cache misses. Here they are read ahead for a
   * group of inputs at a time, one step of every chain after the other, so a group's misses overlap; then the group
   * is applied from the cache.
   */
  applyBatch(inputs: readonly DomainInput[]): number {
    let applied = 0;
    for (let start = 0; start < inputs.length; start += GROUP) {
      const end = Math.min(start + GROUP, inputs.length);
      this.readGroupAhead(inputs, start, end);
      const hashes = this.groupHashes;
      for (let at = start; at < end; at++) {
        const input = inputs[at] as DomainInput;
        const hash = hashes[at - start] as number;
        const changed =
          input.source === 'segment' ? this.applySegment(input.message, hash) : this.applyStripe(input.facts, hash);
        if (changed) applied++;
      }
    }
    return applied;
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

  private applySegment(message: SegmentMessage, hash: number): boolean {
    let state = this.users.get(message.entityKey, hash);
    if (state === undefined) {
      state = createUserState(message.entityKey);
      this.users.add(state, hash);
    }
    if (message.timestamp > this.newestEventAt) this.newestEventAt = message.timestamp;
    const changed = applySegmentMessageToState(this.pipeline, state, message);
    if (this.advance) advanceEntity(this.pipeline, state, this.newestEventAt);
    return changed;
  }

  /** `firstHash`: the key hash of the first fact's customer (the facts of one event are one customer's). */
  private applyStripe(facts: readonly StripeFact[], firstHash: number): boolean {
    let changed = false;
    const firstKey = facts[0]?.customerId;
    for (const fact of facts) {
      const key = fact.customerId;
      const hash = key === firstKey ? firstHash : entityKeyHash(key);
      let state = this.customers.get(key, hash);
      if (state === undefined) {
        state = createCustomerState(key);
        this.customers.add(state, hash);
      }
      if (fact.at > this.newestEventAt) this.newestEventAt = fact.at;
      if (applyStripeFact(state, fact)) changed = true;
    }
    return changed;
  }

  /**
   * Reads ahead what applying inputs[start, end) will read first, one step for all of them before the next: the key
   * hashes (taken when the inputs were built), the index slots with the messageIds (a Segment message's dedupe key)
   * or customer ids, the states, then the arrays an input updates. Each step branches only on the inputs
   * (already in the cache) or on what the step before read, never on a value still on its way: a mispredicted branch
   * on a missing load would discard the loads issued after it, and the misses would follow one another again.
   */
  private readGroupAhead(inputs: readonly DomainInput[], start: number, end: number): void {
    const hashes = this.groupHashes;
    const users = this.userCandidates;
    const customers = this.customerCandidates;
    const count = end - start;
    let sink = 0;
    for (let slot = 0; slot < count; slot++) hashes[slot] = (inputs[start + slot] as DomainInput).keyHash;
    for (let slot = 0; slot < count; slot++) {
      const hash = hashes[slot] as number;
      const input = inputs[start + slot] as DomainInput;
      if (input.source === 'segment') {
        users[slot] = this.users.candidate(hash);
        sink ^= input.message.messageId.length;
      } else {
        customers[slot] = this.customers.candidate(hash);
        sink ^= input.facts[0]?.customerId.length ?? 0;
      }
    }
    for (let slot = 0; slot < count; slot++) {
      const user = users[slot];
      if (user !== undefined) sink ^= user.windowLength ^ user.entityKey.length;
    }
    for (let slot = 0; slot < count; slot++) {
      const customer = customers[slot];
      if (customer !== undefined) sink ^= customer.words.length ^ customer.customerId.length;
    }
    for (let slot = 0; slot < count; slot++) {
      const user = users[slot];
      if (user === undefined) continue;
      const window = user.window;
      // Never index −1 (an empty window): V8 would look that up as a property name.
      const last = window[Math.max(0, user.windowLength - 1)] ?? 0;
      sink ^= (window[0] ?? 0) ^ last ^ (user.allTimeNum?.[0] ?? 0);
      users[slot] = undefined;
    }
    for (let slot = 0; slot < count; slot++) {
      const customer = customers[slot];
      if (customer === undefined) continue;
      const first = customer.firstSubscription;
      sink ^= customer.words[0] ?? 0;
      if (first !== null) sink ^= first.id.length ^ (first.words[0] ?? 0);
      customers[slot] = undefined;
    }
    this.readAhead ^= sink;
  }
}

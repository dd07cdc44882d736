import { customerDiscountIdOf } from '../revenue/customer-discount.js';
import { deriveCustomerProfile } from '../profile/customer-profile.js';
import { profileKey, type FieldValue, type Profile } from '../profile/model.js';
import { applyStripeFact, createCustomerState, type CustomerState } from '../revenue/customer-state.js';
import type { RevenueContext } from '../revenue/revenue-timeline.js';
import type { SegmentMessage } from '../segment/model.js';
import { compileFamily, regionOfCountry, type CompiledFamily } from '../segments/index.js';
import { subscriptionMrr } from '../stripe/subscription-mrr.js';
import type { EpochMs } from '../time.js';
import {
  advanceTraitState,
  applySegmentMessage,
  compileTraitDefinitions,
  createUserTraitState,
  evaluateTraits,
  rewindTraitHorizon,
  type CompiledTraits,
  type UserTraitState,
} from '../traits/index.js';
import type { PipelineConfig } from './pipeline-config.js';

/**
 * A user's state: its trait state's fields on the same object, not behind a `traits` reference. The reducer touches
 * a user per message, and one object fewer is one memory load fewer on its way (and ~60 bytes per user).
 */
export interface UserState extends UserTraitState {
  readonly kind: 'user';
  /**
   * The Segment userId, else anonymousId: the string the state is looked up by, so it is held once. The state key
   * (userStateKey) is built when needed: kept, that concatenation cost ~56 bytes per user.
   */
  readonly entityKey: string;
  lastEventAt: EpochMs;
}

/** What the processor keeps per entity key. */
export type EntityState = CustomerState | UserState;

/** The domain core configured once from the pipeline config: every function on it is pure. */
export interface Pipeline {
  readonly config: PipelineConfig;
  readonly traits: CompiledTraits;
  readonly families: readonly CompiledFamily[];
  readonly revenue: RevenueContext;
}

export function createPipeline(config: PipelineConfig): Pipeline {
  return {
    config,
    traits: compileTraitDefinitions(config.traits),
    families: config.segments.map(compileFamily),
    revenue: {
      reportingCurrency: config.reporting_currency,
      fxRates: config.fx_rates,
      valueSubscription: (snapshot, discounts, at) => subscriptionMrr(snapshot, discounts, at, null),
    },
  };
}

/** A user's state key (its profile key): customers and users never share one. */
export function userStateKey(entityKey: string): string {
  return profileKey('user', entityKey);
}

export function createUserState(entityKey: string): UserState {
  return userStateWith(entityKey, Number.NEGATIVE_INFINITY, createUserTraitState());
}

/** A user's state holding `traits`' fields (built field by field: every user state has the same shape). */
export function userStateWith(entityKey: string, lastEventAt: EpochMs, traits: UserTraitState): UserState {
  return {
    kind: 'user',
    entityKey,
    lastEventAt,
    firstSeenAt: traits.firstSeenAt,
    lastSeenAt: traits.lastSeenAt,
    lastActivityAt: traits.lastActivityAt,
    horizonDay: traits.horizonDay,
    window: traits.window,
    windowLength: traits.windowLength,
    windowedNum: traits.windowedNum,
    windowedRef: traits.windowedRef,
    allTimeNum: traits.allTimeNum,
    allTimeRef: traits.allTimeRef,
    identifyValues: traits.identifyValues,
    identifyAt: traits.identifyAt,
  };
}

/** Applies a Segment message to the user's state; a duplicate returns false. */
export function applySegmentMessageToState(pipeline: Pipeline, state: UserState, message: SegmentMessage): boolean {
  const changed = applySegmentMessage(state, message, pipeline.traits);
  if (changed && message.timestamp > state.lastEventAt) state.lastEventAt = message.timestamp;
  return changed;
}

/**
 * Moves an entity's horizon to the watermark (bounded memory for rolling windows). The processor calls it with the
 * partition's watermark; nothing an evaluation at or after the watermark reports changes because of it.
 */
export function advanceEntity(pipeline: Pipeline, state: EntityState, watermark: EpochMs): void {
  if (state.kind === 'user') advanceTraitState(state, watermark, pipeline.traits, pipeline.config.lateness_days);
}

/**
 * repair-watermark: moves back a user's horizon that a watermark from the future carried past `watermark` (see
 * rewindTraitHorizon). Returns whether it moved; a customer has no horizon.
 */
export function rewindEntity(pipeline: Pipeline, state: EntityState, watermark: EpochMs): boolean {
  if (state.kind !== 'user') return false;
  return rewindTraitHorizon(state, watermark, pipeline.traits, pipeline.config.lateness_days);
}

/** The entity's profile as of `at` (usually the watermark). */
export function deriveProfile(pipeline: Pipeline, state: EntityState, at: EpochMs): Profile {
  if (state.kind === 'customer') {
    const context: RevenueContext = withCustomerDiscount(pipeline.revenue, state);
    return deriveCustomerProfile(state, context, regionOfCountry, at);
  }
  const fields: Record<string, FieldValue> = evaluateTraits(state, pipeline.traits, at);
  return {
    key: userStateKey(state.entityKey),
    kind: 'user',
    entityId: state.entityKey,
    asOf: at,
    lastEventAt: state.lastEventAt,
    revenue: null,
    fields,
  };
}

/** A customer-level coupon applies to subscriptions without their own discount (Stripe's precedence). */
function withCustomerDiscount(context: RevenueContext, state: CustomerState): RevenueContext {
  const customerDiscountId = customerDiscountIdOf(state);
  if (customerDiscountId === null) return context;
  return {
    ...context,
    valueSubscription: (snapshot, discounts, at) => subscriptionMrr(snapshot, discounts, at, customerDiscountId),
  };
}

/** Stripe facts go to the customer's revenue state as they are; see revenue/customer-state.ts. */
export { applyStripeFact, createCustomerState };

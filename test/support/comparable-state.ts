import type { UserState } from '../../src/domain/pipeline/pipeline.js';
import type { UserTraitState } from '../../src/domain/traits/index.js';

/**
 * A user's trait state without the spare capacity of its bucket window (words past `windowLength`), which depends
 * on the order the buckets were built in, not on what the state holds: what two equal states have in common.
 */
export function comparableTraits(traits: UserTraitState): UserTraitState {
  return { ...traits, window: traits.window.slice(0, traits.windowLength) };
}

export function comparableUser(state: UserState): UserState {
  return { ...state, window: state.window.slice(0, state.windowLength) };
}

import { EntityStates } from '../../src/domain/pipeline/entity-states.js';
import { deriveProfile, type Pipeline } from '../../src/domain/pipeline/pipeline.js';
import type { CanonicalEvent } from '../../src/records/canonical-event.js';
import { profileRecordSchema, profileToRecord, type ProfileRecord } from '../../src/records/profile-record.js';
import { decodeCanonicalEvent } from '../../src/sources/canonical-events.js';

/** The offline core's states over the same events: what the processor's profiles must match. */
export function offlineStates(pipeline: Pipeline, events: readonly CanonicalEvent[]): EntityStates {
  const states = new EntityStates(pipeline);
  for (const event of events) {
    const inputs = decodeCanonicalEvent(event);
    if (inputs instanceof Error) throw inputs;
    for (const input of inputs) states.apply(input);
  }
  return states;
}

/**
 * For each profile on the topic, the profile the offline core derives for that entity at the record's own `as_of`;
 * mismatches are returned as [key, actual, expected] (an empty list means exact agreement).
 */
export function profileMismatches(
  pipeline: Pipeline,
  states: EntityStates,
  table: ReadonlyMap<string, Buffer>,
): [string, ProfileRecord | undefined, ProfileRecord | undefined][] {
  const mismatches: [string, ProfileRecord | undefined, ProfileRecord | undefined][] = [];
  for (const [key, value] of table) {
    const record = profileRecordSchema.parse(JSON.parse(value.toString('utf8')));
    const id = key.slice(key.indexOf(':') + 1);
    const state = key.startsWith('customer:') ? states.customers.get(id) : states.users.get(id);
    const expected = state === undefined ? undefined : profileToRecord(deriveProfile(pipeline, state, record.as_of));
    if (JSON.stringify(expected) !== JSON.stringify(record)) mismatches.push([key, record, expected]);
  }
  const missing = states.size - table.size;
  if (missing !== 0) mismatches.push([`${String(missing)} profile(s) missing`, undefined, undefined]);
  return mismatches;
}

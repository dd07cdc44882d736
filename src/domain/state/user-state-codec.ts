import { userStateKey, userStateWith, type UserState } from '../pipeline/pipeline.js';
import type { JsonValue } from '../segment/model.js';
import {
  TraitStateDecodeError,
  userTraitStateFromJSON,
  userTraitStateToJSON,
  type CompiledTraits,
  type UserTraitStateJson,
} from '../traits/index.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { EntityStateEncodeError } from './entity-state-errors.js';
import { readJsonValue, setOwn, writeJsonValue } from './json-value-codec.js';
import { restoreUserTraitState, type TraitStateDocument } from './user-trait-state-restore.js';
import { MAX_TAGGED_MAGNITUDE } from './wire-format.js';

/**
 * A user's trait state goes through the trait-state JSON document (user-trait-state-json.ts), so it keeps that
 * codec's behaviour on a config change (partials stored per definition key and signature; changed definitions
 * start empty). The document is written field by field in binary rather than as JSON text: messageId hashes as
 * 4 bytes, days as deltas, signatures as 8 bytes. On the way back a well-formed document under the same definitions
 * is restored directly (user-trait-state-restore.ts); anything else goes through userTraitStateFromJSON and its zod
 * schema, which decides.
 */
const USER_KEY_PREFIX = userStateKey('');
const SIGNATURE_TEXT = 0;
const SIGNATURE_HEX64 = 1;
const HEX64 = /^[0-9a-f]{16}$/;

export function writeUserState(writer: ByteWriter, state: UserState, traits: CompiledTraits): void {
  writer.string(userStateKey(state.entityKey));
  writer.time(state.lastEventAt);
  const document = userTraitStateToJSON(state, traits);
  writer.uint(document.v);
  writer.time(document.firstSeenAt);
  writer.time(document.lastSeenAt);
  writer.time(document.lastActivityAt);
  writer.number(document.horizonDay);
  writer.uint(document.buckets.length);
  let previousDay = 0;
  for (const [day, activity, ids] of document.buckets) {
    if (!Number.isSafeInteger(day) || Math.abs(day) > MAX_TAGGED_MAGNITUDE) {
      throw new EntityStateEncodeError('traits.buckets.day', `not a day index: ${day}`);
    }
    writer.number(day - previousDay);
    previousDay = day;
    writer.number(activity);
    writer.uint(ids.length);
    for (const id of ids) {
      if ((id | 0) !== id || Object.is(id, -0)) {
        throw new EntityStateEncodeError('traits.buckets.ids', `not a 32-bit hash: ${id}`);
      }
      writer.int32(id);
    }
  }
  const windowed = Object.entries(document.windowed);
  writer.uint(windowed.length);
  for (const [key, { sig, parts }] of windowed) {
    writer.string(key);
    writeSignature(writer, sig);
    writer.uint(parts.length);
    for (const part of parts) writeJsonValue(writer, part, 'traits.windowed');
  }
  const allTime = Object.entries(document.allTime);
  writer.uint(allTime.length);
  for (const [key, { sig, part }] of allTime) {
    writer.string(key);
    writeSignature(writer, sig);
    writeJsonValue(writer, part, 'traits.allTime');
  }
  const identify = Object.entries(document.identify);
  writer.uint(identify.length);
  for (const [path, [at, value]] of identify) {
    writer.string(path);
    writer.time(at);
    writeJsonValue(writer, value, 'traits.identify');
  }
}

export function readUserState(reader: ByteReader, traits: CompiledTraits): UserState {
  const keyAt = reader.offset;
  const userKey = reader.requiredString('userKey');
  if (!userKey.startsWith(USER_KEY_PREFIX)) reader.fail('malformed', 'userKey', `not a user key: ${userKey}`, keyAt);
  const entityKey = userKey.slice(USER_KEY_PREFIX.length);
  const lastEventAt = reader.requiredTime('lastEventAt');
  const documentAt = reader.offset;
  const v = reader.uint('traits.v');
  const firstSeenAt = reader.time('traits.firstSeenAt');
  const lastSeenAt = reader.time('traits.lastSeenAt');
  const lastActivityAt = reader.time('traits.lastActivityAt');
  const horizonDay = reader.number('traits.horizonDay');
  const bucketCount = reader.count('traits.buckets', 3);
  const buckets: [number, number, number[]][] = new Array<[number, number, number[]]>(bucketCount);
  let day = 0;
  for (let b = 0; b < bucketCount; b++) {
    day += reader.requiredNumber('traits.buckets.day');
    const activity = reader.requiredNumber('traits.buckets.activity');
    const idCount = reader.count('traits.buckets.ids', 4);
    const ids = new Array<number>(idCount);
    for (let i = 0; i < idCount; i++) ids[i] = reader.int32('traits.buckets.ids');
    buckets[b] = [day, activity, ids];
  }
  const windowed: UserTraitStateJson['windowed'] = {};
  const windowedCount = reader.count('traits.windowed', 3);
  for (let i = 0; i < windowedCount; i++) {
    const key = reader.requiredString('traits.windowed.key');
    const sig = readSignature(reader);
    const partCount = reader.count('traits.windowed.parts');
    const parts = new Array<JsonValue>(partCount);
    for (let p = 0; p < partCount; p++) parts[p] = readJsonValue(reader, 'traits.windowed.parts');
    setOwn(windowed, key, { sig, parts });
  }
  const allTime: UserTraitStateJson['allTime'] = {};
  const allTimeCount = reader.count('traits.allTime', 3);
  for (let i = 0; i < allTimeCount; i++) {
    const key = reader.requiredString('traits.allTime.key');
    const sig = readSignature(reader);
    setOwn(allTime, key, { sig, part: readJsonValue(reader, 'traits.allTime.part') });
  }
  const identify: UserTraitStateJson['identify'] = {};
  const identifyCount = reader.count('traits.identify', 3);
  for (let i = 0; i < identifyCount; i++) {
    const path = reader.requiredString('traits.identify.path');
    const at = reader.requiredTime('traits.identify.at');
    setOwn<[number, JsonValue]>(identify, path, [at, readJsonValue(reader, 'traits.identify.value')]);
  }
  const document: TraitStateDocument = {
    v,
    firstSeenAt,
    lastSeenAt,
    lastActivityAt,
    horizonDay,
    buckets,
    windowed,
    allTime,
    identify,
  };
  const fast = restoreUserTraitState(document, traits);
  if (fast !== null) return userStateWith(entityKey, lastEventAt, fast);
  let restored;
  try {
    restored = userTraitStateFromJSON(document, traits);
  } catch (error) {
    if (!(error instanceof TraitStateDecodeError)) {
      return reader.fail('malformed', 'traits', error instanceof Error ? error.message : String(error), documentAt);
    }
    const where = error.path.map((part) => `[${JSON.stringify(String(part))}]`).join('');
    return reader.fail('malformed', `traits${where}`, error.message, documentAt);
  }
  return userStateWith(entityKey, lastEventAt, restored);
}

function writeSignature(writer: ByteWriter, sig: string): void {
  if (!HEX64.test(sig)) {
    writer.uint(SIGNATURE_TEXT);
    writer.string(sig);
    return;
  }
  writer.uint(SIGNATURE_HEX64);
  for (let i = 0; i < 16; i += 2) writer.byte(hexDigit(sig.charCodeAt(i)) * 16 + hexDigit(sig.charCodeAt(i + 1)));
}

/** Value of a lowercase hex digit (the caller has checked the text against HEX64). */
function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : code - 0x57;
}

function readSignature(reader: ByteReader): string {
  const at = reader.offset;
  const kind = reader.uint('traits.signature');
  if (kind === SIGNATURE_TEXT) {
    const sig = reader.requiredString('traits.signature');
    if (HEX64.test(sig)) reader.fail('malformed', 'traits.signature', 'a hex signature written as text', at);
    return sig;
  }
  if (kind !== SIGNATURE_HEX64) reader.fail('malformed', 'traits.signature', `unknown signature kind ${kind}`, at);
  let sig = '';
  for (let i = 0; i < 8; i++) sig += reader.byte('traits.signature').toString(16).padStart(2, '0');
  return sig;
}

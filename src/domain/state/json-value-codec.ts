import type { JsonValue } from '../segment/model.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { EntityStateEncodeError } from './entity-state-errors.js';
import {
  JSON_ARRAY,
  JSON_FALSE,
  JSON_NULL,
  JSON_NUMBER,
  JSON_OBJECT,
  JSON_SMALL_INT,
  JSON_SMALL_INT_MAX,
  JSON_STRING,
  JSON_TRUE,
  MAX_JSON_DEPTH,
} from './wire-format.js';

/**
 * Writes a JSON value (identify traits, trait partials) exactly: −0 and key order included. Like JSON itself it has
 * no Infinity or NaN: such a number is refused here and on read.
 */
export function writeJsonValue(writer: ByteWriter, value: JsonValue, field: string): void {
  if (value === null) {
    writer.byte(JSON_NULL);
  } else if (typeof value === 'boolean') {
    writer.byte(value ? JSON_TRUE : JSON_FALSE);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= JSON_SMALL_INT_MAX && !Object.is(value, -0)) {
      writer.byte(JSON_SMALL_INT + value);
    } else {
      if (!Number.isFinite(value)) throw new EntityStateEncodeError(field, `not a JSON number: ${value}`);
      writer.byte(JSON_NUMBER);
      writer.number(value);
    }
  } else if (typeof value === 'string') {
    writer.byte(JSON_STRING);
    writer.string(value);
  } else if (Array.isArray(value)) {
    const items = value as readonly JsonValue[];
    writer.byte(JSON_ARRAY);
    writer.uint(items.length);
    for (const item of items) writeJsonValue(writer, item, field);
  } else if (typeof value === 'object') {
    const record = value as { readonly [key: string]: JsonValue };
    const keys = Object.keys(record);
    writer.byte(JSON_OBJECT);
    writer.uint(keys.length);
    for (const key of keys) {
      writer.string(key);
      writeJsonValue(writer, record[key] as JsonValue, field);
    }
  } else {
    throw new EntityStateEncodeError(field, `not a JSON value: ${typeof value}`);
  }
}

export function readJsonValue(reader: ByteReader, field: string, depth = 0): JsonValue {
  const start = reader.offset;
  const tag = reader.byte(field);
  switch (tag) {
    case JSON_NULL:
      return null;
    case JSON_FALSE:
      return false;
    case JSON_TRUE:
      return true;
    case JSON_NUMBER: {
      const value = reader.requiredNumber(field);
      if (Number.isInteger(value) && value >= 0 && value <= JSON_SMALL_INT_MAX && !Object.is(value, -0)) {
        reader.fail('malformed', field, 'a small integer in long form', start);
      }
      if (!Number.isFinite(value)) reader.fail('malformed', field, `not a JSON number: ${value}`, start);
      return value;
    }
    case JSON_STRING:
      return reader.requiredString(field);
    case JSON_ARRAY: {
      if (depth >= MAX_JSON_DEPTH) reader.fail('malformed', field, 'JSON nested too deeply', start);
      const count = reader.count(field);
      const items = new Array<JsonValue>(count);
      for (let i = 0; i < count; i++) items[i] = readJsonValue(reader, field, depth + 1);
      return items;
    }
    case JSON_OBJECT: {
      if (depth >= MAX_JSON_DEPTH) reader.fail('malformed', field, 'JSON nested too deeply', start);
      const count = reader.count(field, 2);
      const record: { [key: string]: JsonValue } = {};
      for (let i = 0; i < count; i++) {
        const keyAt = reader.offset;
        const key = reader.requiredString(field);
        if (Object.prototype.hasOwnProperty.call(record, key)) reader.fail('malformed', field, `duplicate key`, keyAt);
        setOwn(record, key, readJsonValue(reader, field, depth + 1));
      }
      return record;
    }
    default:
      return tag - JSON_SMALL_INT;
  }
}

/** `record[key] = value`, also for "__proto__" (JSON.parse makes it an own property; plain assignment would not). */
export function setOwn<T>(record: { [key: string]: T }, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    record[key] = value;
  }
}

import type avro from 'avsc';
import { z } from 'zod';
import { isDeepStrictEqual } from 'node:util';

/**
 * Compares an Avro type with a zod schema (through z.toJSONSchema, output side) and lists every disagreement as
 * `path: reason`. Agreement means: the same fields, no field optional in zod that Avro always carries, the same
 * nullability and defaults, and value types that accept the same values (int ↔ 32-bit integer, long ↔ safe
 * integer, double ↔ number, enum ↔ the same symbols, map ↔ record, union ↔ anyOf branch for branch).
 */
export function avroZodMismatches(avroType: avro.Type, zodSchema: z.ZodType): string[] {
  const jsonSchema = z.toJSONSchema(zodSchema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  const mismatches: string[] = [];
  compare(avroType, jsonSchema, '', mismatches);
  return mismatches;
}

interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: JsonSchema | boolean;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly default?: unknown;
  readonly $ref?: string;
}

// Views of avsc's type classes: the avsc typings model them as classes, but instances come from Type.forSchema.
interface EnumView {
  readonly symbols: readonly string[];
}
interface ArrayView {
  readonly itemsType: avro.Type;
}
interface MapView {
  readonly valuesType: avro.Type;
}
interface RecordView {
  readonly name: string | undefined;
  readonly fields: readonly { readonly name: string; readonly type: avro.Type; defaultValue(): unknown }[];
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function compare(avroType: avro.Type, json: JsonSchema, path: string, out: string[]): void {
  const at = path === '' ? '(record)' : path;
  if (json.$ref !== undefined) {
    out.push(`${at}: zod side uses $ref ${json.$ref}; inline the schema`);
    return;
  }
  const jsonBranches = unionBranches(json);
  const isAvroUnion = avroType.typeName.startsWith('union:');
  if (isAvroUnion || jsonBranches !== undefined) {
    compareUnion(avroType, isAvroUnion, jsonBranches ?? [json], at, path, out);
    return;
  }
  const jsonType = json.type;
  switch (avroType.typeName) {
    case 'null':
    case 'boolean':
    case 'string':
      expectType(jsonType, avroType.typeName, at, out);
      if (avroType.typeName === 'string' && json.enum !== undefined) {
        out.push(`${at}: zod restricts the string to ${JSON.stringify(json.enum)}, Avro accepts any string`);
      }
      return;
    case 'int':
      expectType(jsonType, 'integer', at, out);
      if (jsonType === 'integer') {
        const [low, high] = integerBounds(json);
        if (low < INT32_MIN || high > INT32_MAX) {
          out.push(`${at}: Avro int is 32-bit but zod allows [${low}, ${high}]; use z.int32()`);
        }
      }
      return;
    case 'long':
      expectType(jsonType, 'integer', at, out);
      if (jsonType === 'integer' && integerBounds(json)[1] !== Number.MAX_SAFE_INTEGER) {
        out.push(`${at}: Avro long but zod caps the integer at ${integerBounds(json)[1]}; use z.int()`);
      }
      return;
    case 'float':
    case 'double':
      expectType(jsonType, 'number', at, out);
      return;
    case 'enum': {
      const symbols = (avroType as unknown as EnumView).symbols;
      if (jsonType !== 'string' || !isDeepStrictEqual(json.enum, symbols)) {
        out.push(`${at}: Avro enum ${JSON.stringify(symbols)} but zod has ${describe(json)}`);
      }
      return;
    }
    case 'array':
      if (jsonType !== 'array' || json.items === undefined) {
        out.push(`${at}: Avro array but zod has ${describe(json)}`);
        return;
      }
      compare((avroType as unknown as ArrayView).itemsType, json.items, `${path}[]`, out);
      return;
    case 'map': {
      const values = json.additionalProperties;
      if (jsonType !== 'object' || json.properties !== undefined || typeof values !== 'object') {
        out.push(`${at}: Avro map but zod has ${describe(json)}`);
        return;
      }
      compare((avroType as unknown as MapView).valuesType, values, `${path}{}`, out);
      return;
    }
    case 'record':
      compareRecord(avroType as unknown as RecordView, json, path, out);
      return;
    default:
      out.push(`${at}: Avro ${avroType.typeName} has no zod counterpart here`);
  }
}

function compareRecord(record: RecordView, json: JsonSchema, path: string, out: string[]): void {
  const at = path === '' ? '(record)' : path;
  if (json.type !== 'object' || json.properties === undefined) {
    out.push(`${at}: Avro record ${record.name ?? ''} but zod has ${describe(json)}`);
    return;
  }
  const properties = json.properties;
  const required = new Set(json.required ?? []);
  const prefix = path === '' ? '' : `${path}.`;
  const avroNames = new Set<string>();
  for (const field of record.fields) {
    avroNames.add(field.name);
    const fieldPath = `${prefix}${field.name}`;
    const property = properties[field.name];
    if (property === undefined) {
      out.push(`${fieldPath}: in Avro, missing from zod`);
      continue;
    }
    if (!required.has(field.name)) {
      out.push(`${fieldPath}: optional in zod, but Avro always carries it (use .nullable() or .default())`);
    }
    const avroDefault: unknown = field.defaultValue();
    if (!isDeepStrictEqual(avroDefault, property.default)) {
      out.push(`${fieldPath}: default ${show(avroDefault)} in Avro, ${show(property.default)} in zod`);
    }
    compare(field.type, property, fieldPath, out);
  }
  for (const name of Object.keys(properties)) {
    if (!avroNames.has(name)) out.push(`${prefix}${name}: in zod, missing from Avro`);
  }
}

function compareUnion(
  avroType: avro.Type,
  isAvroUnion: boolean,
  jsonBranches: readonly JsonSchema[],
  at: string,
  path: string,
  out: string[],
): void {
  const avroBranches: readonly avro.Type[] = isAvroUnion
    ? (avroType as unknown as { readonly types: readonly avro.Type[] }).types
    : [avroType];
  if (avroBranches.length !== jsonBranches.length) {
    out.push(`${at}: Avro ${avroBranches.map(valueKind).join('|')} but zod ${jsonBranches.map(jsonKind).join('|')}`);
    return;
  }
  const unmatched = [...jsonBranches];
  for (const branch of avroBranches) {
    const kind = valueKind(branch);
    const index = unmatched.findIndex((candidate) => jsonKind(candidate) === kind);
    const match = unmatched[index];
    if (match === undefined) {
      out.push(`${at}: Avro union branch ${kind} has no zod branch`);
      continue;
    }
    unmatched.splice(index, 1);
    compare(branch, match, path, out);
  }
}

/** The JSON-side branches of a nullable or union schema; undefined for a single-type schema. */
function unionBranches(json: JsonSchema): readonly JsonSchema[] | undefined {
  const alternatives = json.anyOf ?? json.oneOf;
  if (alternatives !== undefined) return alternatives;
  if (Array.isArray(json.type)) return json.type.map((type: string) => ({ ...json, type }));
  return undefined;
}

/** The JS value kind an Avro type decodes to: what tells union branches apart. */
function valueKind(type: avro.Type): string {
  switch (type.typeName) {
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'number';
    case 'enum':
      return 'string';
    case 'map':
    case 'record':
      return 'object';
    default:
      return type.typeName;
  }
}

function jsonKind(json: JsonSchema): string {
  return json.type === 'integer' ? 'number' : typeof json.type === 'string' ? json.type : describe(json);
}

function integerBounds(json: JsonSchema): readonly [number, number] {
  const low = json.minimum ?? (json.exclusiveMinimum === undefined ? -Infinity : json.exclusiveMinimum + 1);
  const high = json.maximum ?? (json.exclusiveMaximum === undefined ? Infinity : json.exclusiveMaximum - 1);
  return [low, high];
}

function expectType(actual: JsonSchema['type'], expected: string, at: string, out: string[]): void {
  if (actual !== expected) out.push(`${at}: Avro ${expected} but zod has ${show(actual)}`);
}

function describe(json: JsonSchema): string {
  return JSON.stringify(json);
}

function show(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}

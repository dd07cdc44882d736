import registryPackage from '@kafkajs/confluent-schema-registry';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { z } from 'zod';
import type { EnvConfig } from '../../config/env.js';
import { readAvroSchema, schemaCatalog, type RecordName } from '../../records/schema-catalog.js';

// The registry client is CommonJS: its classes and enums are reached through the default export under ESM.
const { SchemaRegistry: SchemaRegistryClient, SchemaType, COMPATIBILITY } = registryPackage;

/** Encodes and decodes one record type on one topic; every decoded value has passed its zod schema. */
export interface RecordSerde<T> {
  readonly format: 'json' | 'avro';
  encode(value: T): Promise<Buffer>;
  decode(bytes: Buffer): Promise<T>;
}

export type RecordDecodeErrorCode = 'not_json' | 'schema_invalid' | 'wire_format';

/** A record that cannot be read: the reason a dead-letter record carries. */
export class RecordDecodeError extends Error {
  constructor(
    readonly code: RecordDecodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RecordDecodeError';
  }
}

/** The registry refused a record's schema at start; the message names the record, its file, the subject and why. */
export class SchemaRegistrationError extends Error {
  constructor(
    readonly subject: string,
    /** The registry's HTTP status, when it answered (409: incompatible, 422: invalid schema). */
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SchemaRegistrationError';
  }
}

/** JSON records (no registry): validated by the same zod types on both sides. */
export function jsonSerde<T>(recordName: RecordName, schema: z.ZodType<T>): RecordSerde<T> {
  return {
    format: 'json',
    // Through a promise chain, so a record that fails its schema rejects rather than throws.
    encode: (value) => Promise.resolve(value).then((valid) => Buffer.from(JSON.stringify(schema.parse(valid)), 'utf8')),
    decode: (bytes) =>
      Promise.resolve(bytes).then((received) => {
        let raw: unknown;
        try {
          raw = JSON.parse(received.toString('utf8'));
        } catch (error) {
          throw new RecordDecodeError('not_json', `${recordName}: not JSON`, { cause: error });
        }
        return validate(schema, recordName, raw);
      }),
  };
}

/**
 * Confluent wire format (magic byte, schema id, Avro body) through the registry. The record's schema from `schemas/`
 * is registered under the topic-name strategy (`<topic>-value`) with BACKWARD compatibility, so a later, incompatible
 * change is refused at start rather than breaking consumers. Decoded values are checked by the zod type as well.
 */
export async function registrySerde<T>(
  registry: SchemaRegistry,
  topic: string,
  recordName: RecordName,
  schema: z.ZodType<T>,
): Promise<RecordSerde<T>> {
  const subject = `${topic}-value`;
  let id: number;
  try {
    ({ id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(readAvroSchema(recordName)) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    ));
  } catch (error) {
    throw registrationError(recordName, subject, error);
  }
  return {
    format: 'avro',
    encode: async (value) => registry.encode(id, schema.parse(value)),
    decode: async (bytes) => {
      let raw: unknown;
      try {
        raw = (await registry.decode(bytes)) as unknown;
      } catch (error) {
        throw new RecordDecodeError('wire_format', `${recordName}: not a registry-encoded record (${String(error)})`, {
          cause: error,
        });
      }
      return validate(schema, recordName, raw);
    },
  };
}

export function createSchemaRegistry(config: NonNullable<EnvConfig['schemaRegistry']>): SchemaRegistry {
  const auth =
    config.username === undefined ? undefined : { username: config.username, password: config.password ?? '' };
  return new SchemaRegistryClient({ host: config.url, ...(auth === undefined ? {} : { auth }) });
}

/** The client's error says only what the registry said (Apicurio's even starts with a Java class name): add ours. */
function registrationError(recordName: RecordName, subject: string, error: unknown): SchemaRegistrationError {
  const status =
    typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number'
      ? error.status
      : undefined;
  const detail = error instanceof Error ? error.message : String(error);
  const why =
    status === 409
      ? `it is not BACKWARD-compatible with the version registered there (${detail})`
      : status === 422
        ? `the registry finds it invalid (${detail})`
        : detail;
  return new SchemaRegistrationError(
    subject,
    status,
    `${recordName} (${schemaCatalog[recordName].avscPath}) cannot be registered under subject "${subject}": ${why}`,
    { cause: error },
  );
}

function validate<T>(schema: z.ZodType<T>, recordName: string, raw: unknown): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new RecordDecodeError('schema_invalid', `${recordName}: ${issues.join('; ')}`);
}

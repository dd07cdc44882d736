import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import avro from 'avsc';

/**
 * A test double of the Confluent Schema Registry REST subset that @kafkajs/confluent-schema-registry uses: register a
 * schema version, get a schema by id, latest version, subject config, and a compatibility check. Responses have the
 * real shapes and error codes; BACKWARD compatibility is really checked (the new schema must read data written with
 * the latest one), so an incompatible change is refused as the real registry refuses it.
 */
export interface SchemaRegistryDouble {
  readonly url: string;
  /** Every request received, for assertions. */
  readonly requests: readonly { readonly method: string; readonly path: string }[];
  stop(): Promise<void>;
}

interface Version {
  readonly id: number;
  readonly version: number;
  readonly schema: string;
}

const JSON_TYPE = 'application/vnd.schemaregistry.v1+json';

export async function startSchemaRegistryDouble(): Promise<SchemaRegistryDouble> {
  const subjects = new Map<string, Version[]>();
  const schemasById = new Map<number, string>();
  const compatibility = new Map<string, string>();
  const requests: { method: string; path: string }[] = [];
  let nextId = 1;

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<true> {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://registry').pathname);
    const method = request.method ?? 'GET';
    requests.push({ method, path });
    const body = await readBody(request);
    const send = (status: number, payload: unknown): true => {
      response.writeHead(status, { 'content-type': JSON_TYPE });
      response.end(JSON.stringify(payload));
      return true;
    };
    const notFound = (code: number, message: string): true => send(404, { error_code: code, message });
    let match: RegExpExecArray | null;

    if (method === 'GET' && (match = /^\/schemas\/ids\/(\d+)$/.exec(path))) {
      const schema = schemasById.get(Number(match[1]));
      if (schema === undefined) return notFound(40403, 'Schema not found');
      return send(200, { schema });
    }
    if ((match = /^\/config\/(.+)$/.exec(path))) {
      const subject = match[1] ?? '';
      if (method === 'GET') {
        const level = compatibility.get(subject);
        if (level === undefined)
          return notFound(40408, `Subject '${subject}' does not have subject-level compatibility configured`);
        return send(200, { compatibilityLevel: level });
      }
      if (method === 'PUT') {
        const requested = (body as { compatibility?: unknown }).compatibility;
        const level = (typeof requested === 'string' ? requested : 'BACKWARD').toUpperCase();
        compatibility.set(subject, level);
        return send(200, { compatibility: level });
      }
    }
    if (method === 'POST' && (match = /^\/subjects\/(.+)\/versions$/.exec(path))) {
      const subject = match[1] ?? '';
      const schema = schemaOf(body);
      const versions = subjects.get(subject) ?? [];
      const same = versions.find((version) => version.schema === schema);
      if (same !== undefined) return send(200, { id: same.id });
      const latest = versions[versions.length - 1];
      const level = compatibility.get(subject) ?? 'BACKWARD';
      if (latest !== undefined && level === 'BACKWARD' && !readsOld(schema, latest.schema)) {
        return send(409, {
          error_code: 409,
          message: 'Schema being registered is incompatible with an earlier schema for subject',
        });
      }
      const id = nextId++;
      schemasById.set(id, schema);
      subjects.set(subject, [...versions, { id, version: versions.length + 1, schema }]);
      return send(200, { id });
    }
    if (method === 'GET' && (match = /^\/subjects\/(.+)\/versions\/latest$/.exec(path))) {
      const subject = match[1] ?? '';
      const latest = subjects.get(subject)?.at(-1);
      if (latest === undefined) return notFound(40401, `Subject '${subject}' not found.`);
      return send(200, { subject, version: latest.version, id: latest.id, schema: latest.schema });
    }
    if (method === 'POST' && (match = /^\/compatibility\/subjects\/(.+)\/versions\/latest$/.exec(path))) {
      const latest = subjects.get(match[1] ?? '')?.at(-1);
      if (latest === undefined) return notFound(40401, 'Subject not found.');
      return send(200, { is_compatible: readsOld(schemaOf(body), latest.schema) });
    }
    return notFound(404, `no route ${method} ${path} in the schema registry double`);
  }

  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

/** BACKWARD: a reader with the new schema can read data written with the old one. */
function readsOld(newSchema: string, oldSchema: string): boolean {
  try {
    avro.Type.forSchema(JSON.parse(newSchema) as avro.Schema).createResolver(
      avro.Type.forSchema(JSON.parse(oldSchema) as avro.Schema),
    );
    return true;
  } catch {
    return false;
  }
}

function schemaOf(body: unknown): string {
  const schema = (body as { schema?: unknown }).schema;
  return typeof schema === 'string' ? schema : '';
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as unknown);
}

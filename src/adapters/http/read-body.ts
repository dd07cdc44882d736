import type { IncomingMessage } from 'node:http';

/** The request body is over the limit: answered 413 and never read further. */
export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`request body over ${String(limitBytes)} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * The raw request body, exactly as sent (signatures are computed over these bytes, never over re-serialised JSON).
 * Stops reading as soon as the limit is passed, whatever Content-Length claims.
 */
export async function readRawBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw new BodyTooLargeError(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) throw new BodyTooLargeError(limitBytes);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}

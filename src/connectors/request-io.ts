import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { BodyTooLargeError } from '../adapters/http/read-body.js';

export { isClientAbort } from '../adapters/http/http-server.js';

/** The request's path without its query string. */
export function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The first value of a request header. */
export function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The raw body, exactly as sent (signatures are computed over these bytes), or the error saying it is over
 * `limitBytes`: refused from a Content-Length over it before a byte is read, else reading stops there (the request is
 * paused, not destroyed, so it can still be answered). Rejects with an ECONNRESET error when the client goes away.
 */
export function readBodyWithin(request: IncomingMessage, limitBytes: number): Promise<Buffer | BodyTooLargeError> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limitBytes) return Promise.resolve(new BodyTooLargeError(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onClose);
      request.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        settle();
        request.pause();
        resolve(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      settle();
      resolve(Buffer.concat(chunks, size));
    };
    const onClose = () => {
      settle();
      reject(Object.assign(new Error('the client closed the request before its body ended'), { code: 'ECONNRESET' }));
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('close', onClose);
    request.on('error', onError);
  });
}

/**
 * The most of an unread body Node is left to read and discard after an answer, so the connection stays usable and
 * the client, still sending, reliably reads the answer: a Tracking API batch or a Stripe event fits. A larger body
 * (or one of undeclared length, or one already partly read) gets `Connection: close` instead: reading megabytes only
 * to throw them away is what a flood of oversized bodies wants, and the sender sees the connection close.
 */
const DISCARDABLE_BYTES = 1024 * 1024;

/** Writes a whole JSON answer (see DISCARDABLE_BYTES for what happens to a body left unread). */
export function answer(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const declared = declaredLength(request);
  const discardable =
    request.complete || (request.readableFlowing === null && declared !== undefined && declared <= DISCARDABLE_BYTES);
  const closing: OutgoingHttpHeaders = discardable ? {} : { connection: 'close' };
  response.writeHead(status, { 'content-type': 'application/json', ...headers, ...closing });
  response.end(JSON.stringify(body));
}

function declaredLength(request: IncomingMessage): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../adapters/http/json-depth.js';

/** Why a body could not be read as JSON; the message names the rule only, never a piece of the body. */
export class JsonBodyError extends Error {
  constructor(
    readonly code: 'invalid_json' | 'too_deep',
    message: string,
  ) {
    super(message);
    this.name = 'JsonBodyError';
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A request body as JSON, whatever its Content-Type (analytics.js sends text/plain to avoid a CORS preflight). The
 * nesting is measured on the bytes first, so neither JSON.parse nor any recursive walk after it meets a hostile
 * depth; the bytes must be UTF-8 (a leading BOM is dropped). Never throws. The error messages are fixed texts: V8's
 * own parse errors quote part of the input, which would carry a sender's data into logs and responses.
 */
export function parseJsonBody(bytes: Uint8Array, maxDepth: number = MAX_JSON_DEPTH): unknown {
  if (jsonNestsDeeperThan(bytes, maxDepth)) {
    return new JsonBodyError('too_deep', `the body nests arrays or objects deeper than ${String(maxDepth)} levels`);
  }
  try {
    return JSON.parse(UTF8.decode(bytes)) as unknown;
  } catch {
    return new JsonBodyError('invalid_json', 'the body is not valid JSON (UTF-8)');
  }
}

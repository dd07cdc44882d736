import { SecretSet } from '../secret-set.js';

const BASIC = /^basic\s+([A-Za-z0-9+/=_-]*)\s*$/i;

/**
 * The write key of an `Authorization: Basic base64("<writeKey>:")` header (the username; the password, empty
 * by convention, is not read). Undefined when there is no header or it is another scheme (e.g. OAuth's Bearer,
 * which Segment pairs with a writeKey in the body); '' when it is Basic auth without a username.
 */
export function writeKeyFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = BASIC.exec(header);
  if (match === null) return undefined;
  const credentials = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = credentials.indexOf(':');
  return colon === -1 ? credentials : credentials.slice(0, colon);
}

/**
 * The `writeKey` field of a body: undefined when absent or null; a value that is not a string is presented as ''
 * so it is refused rather than silently ignored.
 */
export function writeKeyFromBody(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const value = (body as { writeKey?: unknown }).writeKey;
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : '';
}

export type WriteKeyVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'missing_write_key' | 'invalid_write_key'; readonly message: string };

/** The write keys the connector accepts (SEGMENT_WRITE_KEYS), compared in constant time (see SecretSet). */
export class AcceptedWriteKeys {
  private readonly keys: SecretSet;

  constructor(keys: readonly string[]) {
    this.keys = new SecretSet(keys);
  }

  get size(): number {
    return this.keys.size;
  }

  accepts(key: string): boolean {
    return this.keys.has(key);
  }

  /**
   * A request may present its key in the Basic header, the body or both (the Node SDK sends both): it needs at
   * least one, and every key it presents must be accepted, so a valid header cannot launder a wrong body key.
   */
  verify(fromHeader: string | undefined, fromBody: string | undefined): WriteKeyVerdict {
    if (this.keys.size === 0) {
      return {
        ok: false,
        code: 'invalid_write_key',
        message: 'this connector accepts no write keys (SEGMENT_WRITE_KEYS is not set)',
      };
    }
    if (fromHeader === undefined && fromBody === undefined) {
      return {
        ok: false,
        code: 'missing_write_key',
        message: 'no write key: send Authorization: Basic base64("<writeKey>:") or "writeKey" in the body',
      };
    }
    if (fromHeader !== undefined && !this.accepts(fromHeader)) {
      return {
        ok: false,
        code: 'invalid_write_key',
        message: 'the write key in the Authorization header is not accepted',
      };
    }
    if (fromBody !== undefined && !this.accepts(fromBody)) {
      return { ok: false, code: 'invalid_write_key', message: 'the writeKey in the body is not accepted' };
    }
    return { ok: true };
  }
}

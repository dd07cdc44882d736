import { describe, expect, it } from 'vitest';
import {
  AcceptedWriteKeys,
  writeKeyFromAuthorization,
  writeKeyFromBody,
} from '../../../src/connectors/segment/write-key.js';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('write key from the Authorization header', () => {
  it('reads the username of Basic auth, as in reference fixture F1', () => {
    expect(writeKeyFromAuthorization('Basic d2tfdGVzdF84SmQyOg==')).toBe('wk_test_8Jd2');
  });

  it('accepts any casing of the scheme, a missing colon and ignores a password', () => {
    expect(writeKeyFromAuthorization(`basic ${Buffer.from('wk_live_1:').toString('base64')}`)).toBe('wk_live_1');
    expect(writeKeyFromAuthorization(basic('wk_live_1'))).toBe('wk_live_1');
    expect(writeKeyFromAuthorization(basic('wk_live_1:not-read'))).toBe('wk_live_1');
  });

  it('is absent for no header or another scheme, and empty for Basic auth without a username', () => {
    expect(writeKeyFromAuthorization(undefined)).toBeUndefined();
    expect(writeKeyFromAuthorization('Bearer eyJhbGciOi')).toBeUndefined();
    expect(writeKeyFromAuthorization('Basic Og==')).toBe('');
  });
});

describe('write key from the body', () => {
  it('reads a string writeKey; a non-string one is presented as the empty (refused) key', () => {
    expect(writeKeyFromBody({ writeKey: 'wk_test_8Jd2', batch: [] })).toBe('wk_test_8Jd2');
    expect(writeKeyFromBody({ writeKey: 42 })).toBe('');
  });

  it('is absent when the field is missing or null, or the body is not an object', () => {
    expect(writeKeyFromBody({ batch: [] })).toBeUndefined();
    expect(writeKeyFromBody({ writeKey: null })).toBeUndefined();
    expect(writeKeyFromBody([{ writeKey: 'wk_test_8Jd2' }])).toBeUndefined();
    expect(writeKeyFromBody('wk_test_8Jd2')).toBeUndefined();
  });
});

describe('accepted write keys', () => {
  const keys = new AcceptedWriteKeys(['wk_current', 'wk_previous']);

  it('accepts every configured key (rotation) and nothing else, whatever the length', () => {
    expect(keys.accepts('wk_current')).toBe(true);
    expect(keys.accepts('wk_previous')).toBe(true);
    expect(keys.accepts('wk_curren')).toBe(false);
    expect(keys.accepts('wk_current ')).toBe(false);
    expect(keys.accepts('')).toBe(false);
  });

  it('needs one key from the header or the body, and refuses a request whose keys are not all accepted', () => {
    expect(keys.verify('wk_current', undefined)).toEqual({ ok: true });
    expect(keys.verify(undefined, 'wk_previous')).toEqual({ ok: true });
    expect(keys.verify('wk_current', 'wk_current')).toEqual({ ok: true });
    expect(keys.verify(undefined, undefined)).toEqual({
      ok: false,
      code: 'missing_write_key',
      message: 'no write key: send Authorization: Basic base64("<writeKey>:") or "writeKey" in the body',
    });
    expect(keys.verify('wk_other', 'wk_current')).toEqual({
      ok: false,
      code: 'invalid_write_key',
      message: 'the write key in the Authorization header is not accepted',
    });
    expect(keys.verify('wk_current', 'wk_other')).toEqual({
      ok: false,
      code: 'invalid_write_key',
      message: 'the writeKey in the body is not accepted',
    });
    expect(keys.verify('', undefined)).toMatchObject({ ok: false, code: 'invalid_write_key' });
  });

  it('refuses everything when no key is configured', () => {
    expect(new AcceptedWriteKeys([]).verify('wk_current', undefined)).toEqual({
      ok: false,
      code: 'invalid_write_key',
      message: 'this connector accepts no write keys (SEGMENT_WRITE_KEYS is not set)',
    });
  });
});

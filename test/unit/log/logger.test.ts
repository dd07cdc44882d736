import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubText } from '../../../src/log/logger.js';
import { scrubJsonStrings } from '../../../src/log/scrub.js';
import type { LogLevel } from '../../../src/log/logger.js';
import { loadEnv } from '../../../src/config/env.js';

function memoryLogger(level: LogLevel = 'info') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ level, name: 'processor', destination });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

const secrets = [
  'sk_live_51HxAbCdEf0123456789',
  'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
  'rk_live_9ZyXwVu',
  'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSGY',
  'mvra_live_0123456789abcdef0123456789abcdef',
  'mvra_test_sandbox_key_42',
  'jane.doe+billing@example.co.uk',
  'hunter2-password',
  '4242424242424242',
];

describe('createLogger', () => {
  it('writes structured JSON with the level label, the service name and the bound fields', () => {
    const { logger, records } = memoryLogger();
    logger.child({ partition: 3 }).info({ offset: '42', mrr: 129_900 }, 'batch committed');
    const [record] = records();
    expect(record).toMatchObject({ level: 'info', name: 'processor', partition: 3, offset: '42', mrr: 129_900 });
    expect(record?.['msg']).toBe('batch committed');
    expect(typeof record?.['time']).toBe('number');
  });

  it('drops lines below the configured level', () => {
    const { logger, records } = memoryLogger('warn');
    logger.info('not shown');
    logger.warn('shown');
    expect(records().map((record) => record['msg'])).toEqual(['shown']);
  });

  it('redacts sensitive keys up to four levels deep and keeps their neighbours', () => {
    const { logger, records } = memoryLogger();
    logger.info(
      {
        authorization: 'Bearer mvra_live_abc',
        password: secrets[7],
        config: { apiKey: 'k1', api_key: 'k2', writeKey: 'wk', keep: 'visible' },
        customer: { email: 'a@b.io', card: { number: secrets[8], cvc: '123' }, id: 'cus_9' },
        deep: { a: { b: { token: 't', secret: 's', kept: 1 } } },
        req: {
          headers: { authorization: 'Basic d2s6', 'stripe-signature': 't=1,v1=ab', 'x-signature': 'ff', host: 'h' },
        },
        users: [{ email: 'x@y.dev', name: 'X' }],
      },
      'request',
    );
    expect(records()[0]).toMatchObject({
      authorization: '[redacted]',
      password: '[redacted]',
      config: { apiKey: '[redacted]', api_key: '[redacted]', writeKey: '[redacted]', keep: 'visible' },
      customer: { email: '[redacted]', card: '[redacted]', id: 'cus_9' },
      deep: { a: { b: { token: '[redacted]', secret: '[redacted]', kept: 1 } } },
      req: {
        headers: {
          authorization: '[redacted]',
          'stripe-signature': '[redacted]',
          'x-signature': '[redacted]',
          host: 'h',
        },
      },
      users: [{ email: '[redacted]', name: 'X' }],
    });
  });

  it('redacts sensitive keys in child bindings', () => {
    const { logger, lines } = memoryLogger();
    logger.child({ user: { email: 'kid@example.com', id: 'u1' } }).info('hi');
    expect(lines[0]).not.toContain('kid@example.com');
    expect(lines[0]).toContain('"id":"u1"');
  });

  it('scrubs keys and e-mail addresses from messages and format arguments', () => {
    const { logger, records } = memoryLogger();
    logger.info(`retrying with ${secrets[0]} for ${secrets[6]}`);
    logger.warn({ attempt: 2 }, 'webhook secret %s rejected for %s', secrets[3], 'acct 7');
    expect(records().map((record) => record['msg'])).toEqual([
      'retrying with [redacted] for [redacted]',
      'webhook secret [redacted] rejected for acct 7',
    ]);
  });

  it('scrubs error messages and stacks, whether the error is logged alone, under err or under error', () => {
    const { logger, lines, records } = memoryLogger();
    const cause = new Error(`key ${secrets[4]} revoked`);
    const failure = new Error(`Mavera said 401 for ${secrets[5]}`, { cause });
    logger.error(failure);
    logger.error({ err: new Error(`Stripe rejected ${secrets[2]}`) });
    logger.error({ error: new Error(`owner ${secrets[6]}`) }, 'flush failed');
    const [alone, underErr, underError] = records();
    expect(alone?.['msg']).toBe('Mavera said 401 for [redacted]');
    // pino's error serializer appends the cause chain to the message and the stack.
    expect((alone?.['err'] as { message: string }).message).toBe(
      'Mavera said 401 for [redacted]: key [redacted] revoked',
    );
    expect((alone?.['err'] as { stack: string }).stack).toContain('caused by: Error: key [redacted] revoked');
    expect(underErr?.['msg']).toBe('Stripe rejected [redacted]');
    expect((underError?.['error'] as { message: string }).message).toBe('owner [redacted]');
    expect(underError?.['msg']).toBe('flush failed');
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
  });

  it('never leaks the secrets of a loaded EnvConfig logged as it is', () => {
    const { logger, lines } = memoryLogger();
    const config = loadEnv({
      STRIPE_WEBHOOK_SECRET: 'whsec_rotationOld,whsec_rotationNew',
      SEGMENT_SHARED_SECRET: 'segment-shared-secret-value',
      SEGMENT_WRITE_KEYS: 'writekey-one,writekey-two',
      SEGMENT_TOKEN: 'segment-token-value',
      MAVERA_API_KEY: 'mvra_live_0123456789abcdef0123456789abcdef',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'kafka-user',
      KAFKA_SASL_PASSWORD: 'kafka-password-value',
    });
    logger.info({ config }, 'starting');
    const text = lines.join('');
    for (const secret of [
      'rotationOld',
      'rotationNew',
      'segment-shared-secret-value',
      'writekey-one',
      'segment-token-value',
      'mvra_live_',
      'kafka-password-value',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('kafka-user');
  });

  it('leaves ordinary text alone', () => {
    expect(scrubText('cus_R2d2 moved to enterprise (mrr 129900, evt_1 at 2025-03-01T12:30:00Z)')).toBe(
      'cus_R2d2 moved to enterprise (mrr 129900, evt_1 at 2025-03-01T12:30:00Z)',
    );
  });
});

describe('scrubbing every logged string', () => {
  it('scrubs string fields of logged objects and bindings at any depth, not only known keys', () => {
    const { logger, lines, records } = memoryLogger();
    logger.child({ tenant: 'owner jane.doe@example.com' }).warn(
      {
        reason: 'expected a number, got "Carol Private 4111111111111111 carol.pii@example.com"',
        detail: { items: [{ note: `paid with 4000 0566 5566 5556 by ${secrets[0]}` }] },
      },
      'refused',
    );
    const [record] = records();
    expect(record?.['reason']).toBe('expected a number, got "Carol Private [redacted] [redacted]"');
    expect(record?.['tenant']).toBe('owner [redacted]');
    expect(JSON.stringify(record?.['detail'])).toBe('{"items":[{"note":"paid with [redacted] by [redacted]"}]}');
    for (const planted of ['4111111111111111', '4000 0566 5566 5556', 'carol.pii', 'jane.doe', secrets[0] ?? '']) {
      expect(lines[0]).not.toContain(planted);
    }
  });

  it('takes out card numbers by network and Luhn check, and leaves other long numbers alone', () => {
    expect(scrubText('card 4242-4242-4242-4242 ok')).toBe('card [redacted] ok');
    expect(scrubText('amex 378282246310005')).toBe('amex [redacted]');
    // An epoch in milliseconds, a number failing Luhn, and a digit run inside a longer one stay.
    expect(scrubText('as_of 1782771654243')).toBe('as_of 1782771654243');
    expect(scrubText('order 4111111111111112')).toBe('order 4111111111111112');
    expect(scrubText('id 94111111111111111')).toBe('id 94111111111111111');
  });

  it('takes out HTTP credentials quoted in text', () => {
    expect(scrubText('sent Authorization: Basic d2tfdGVzdF84SmQyOg== twice')).toBe(
      'sent Authorization: [redacted] twice',
    );
    expect(scrubText('Bearer abc.def-ghi_jkl')).toBe('[redacted]');
  });
});

describe('scrubJsonStrings', () => {
  it('scrubs string literals only, so the line stays the same JSON document', () => {
    const line = JSON.stringify({ amount: 4111111111111111, note: 'quote " and 4111 1111 1111 1111', ok: true });
    const scrubbed = scrubJsonStrings(line);
    expect(JSON.parse(scrubbed)).toEqual({ amount: 4111111111111111, note: 'quote " and [redacted]', ok: true });
  });
});

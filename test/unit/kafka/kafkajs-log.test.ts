import { Writable } from 'node:stream';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { pinoLogCreator } from '../../../src/adapters/kafka/kafka-client.js';
import { createLogger } from '../../../src/log/logger.js';

const { logLevel } = kafkajs;

describe("kafkajs' logs in ours", () => {
  it('logs a debug line carrying protocol buffers as their sizes, without crashing the redaction', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const log = pinoLogCreator(createLogger({ level: 'debug', name: 'test', destination }))(logLevel.DEBUG);
    // The shape of kafkajs' "Request" debug line: the encoded request, and buffers under keys redaction walks into.
    const entry = {
      namespace: 'Connection',
      level: logLevel.DEBUG,
      label: 'DEBUG',
      log: {
        message: 'Request Produce(key: 0, version: 7)',
        timestamp: '2026-12-08T00:00:00.000Z',
        logger: 'kafkajs',
        payload: { type: 'Buffer', buffer: Buffer.from('carol.pii@example.com') },
        card: { number: new Uint8Array(16) },
        email: Buffer.from('x@y.io'),
      },
    };
    expect(() => {
      log(entry);
    }).not.toThrow();
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(record['payload']).toEqual({ type: 'Buffer', buffer: '<21 bytes>' });
    expect(lines[0]).not.toContain('carol.pii');
  });
});

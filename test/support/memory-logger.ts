import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogLevel } from '../../src/log/logger.js';

/** A logger whose JSON lines are kept, parsed, to check what the code under test writes. */
export function memoryLogger(level: LogLevel = 'debug'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level, name: 'test', destination }), lines };
}

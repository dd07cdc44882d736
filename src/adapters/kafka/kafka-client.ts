import kafkajs from 'kafkajs';
import type { Kafka, KafkaConfig, logCreator, SASLOptions } from 'kafkajs';
import type { EnvConfig } from '../../config/env.js';
import type { Logger } from '../../log/logger.js';

// kafkajs is CommonJS: its enums and classes are reached through the default export under ESM.
const { Kafka: KafkaClient, logLevel } = kafkajs;

/** The connection settings cannot make a client (the message names the variable to change). */
export class KafkaConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaConfigError';
  }
}

/**
 * The one place Kafka clients are built: bootstrap list, client id, TLS and SASL (Confluent Cloud, MSK with SCRAM,
 * Redpanda) from KAFKA_* variables, and kafkajs' own logs routed into our structured logger.
 */
export function createKafka(config: EnvConfig['kafka'], logger: Logger): Kafka {
  if (config.brokers === undefined || config.brokers.length === 0) {
    throw new KafkaConfigError('KAFKA_BROKERS is not set: give the bootstrap list, e.g. broker-1:9092,broker-2:9092');
  }
  const options: KafkaConfig = {
    clientId: config.clientId,
    brokers: [...config.brokers],
    ssl: config.ssl,
    logCreator: pinoLogCreator(logger),
    // kafkajs' own debug lines (every request) only when the service logs at debug: how a flaky group is taken apart.
    logLevel: logger.isLevelEnabled('debug') ? logLevel.DEBUG : logLevel.INFO,
  };
  const sasl = saslOptions(config.sasl);
  if (sasl !== undefined) options.sasl = sasl;
  return new KafkaClient(options);
}

function saslOptions(sasl: EnvConfig['kafka']['sasl']): SASLOptions | undefined {
  if (sasl === undefined) return undefined;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username: sasl.username, password: sasl.password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username: sasl.username, password: sasl.password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username: sasl.username, password: sasl.password };
  }
}

const LEVELS = new Map<number, 'error' | 'warn' | 'info' | 'debug'>([
  [logLevel.ERROR, 'error'],
  [logLevel.WARN, 'warn'],
  [logLevel.INFO, 'info'],
  [logLevel.DEBUG, 'debug'],
]);

export function pinoLogCreator(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
      kafkaLogger[LEVELS.get(level) ?? 'info'](
        { namespace, ...(loggable(fields, 4) as Record<string, unknown>) },
        message,
      );
    };
}

/**
 * kafkajs' debug lines carry raw protocol buffers (requests, record values): logged as their size, since bytes are
 * no use in a JSON log, may hold record contents, and the redaction walk cannot step into a typed array.
 */
function loggable(value: unknown, depth: number): unknown {
  if (ArrayBuffer.isView(value)) return `<${String(value.byteLength)} bytes>`;
  if (depth === 0 || typeof value !== 'object' || value === null || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => loggable(item, depth - 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, loggable(item, depth - 1)]));
}

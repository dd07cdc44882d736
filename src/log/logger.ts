import { pino } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { REDACTED, scrubJsonStrings } from './scrub.js';

export type { Logger } from 'pino';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LoggerConfig {
  readonly level: LogLevel;
  /** Service role, e.g. `processor`; appears as `name` on every line. */
  readonly name: string;
  /** Where JSON lines go; stdout when absent. */
  readonly destination?: DestinationStream | undefined;
}

export { REDACTED, scrubText } from './scrub.js';

/** Keys whose values are secrets or personal data wherever they appear (up to 4 levels deep). */
const sensitiveKeys = [
  'authorization',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'token',
  'writeKey',
  // The names EnvConfig gives its secrets (src/config/env.ts), so logging the config never leaks them.
  'webhookSecrets',
  'sharedSecrets',
  'writeKeys',
  'metricsBearerToken',
  'email',
  'card',
  'number',
  'cvc',
] as const;

/** Signature headers are only sensitive under `headers`, where their dashed names live. */
const sensitiveHeaders = ['authorization', 'cookie', 'stripe-signature', 'x-signature'] as const;

function redactPaths(): string[] {
  const depthPrefixes = ['', '*.', '*.*.', '*.*.*.'];
  const paths = sensitiveKeys.flatMap((key) => depthPrefixes.map((prefix) => `${prefix}${key}`));
  for (const header of sensitiveHeaders) {
    for (const prefix of depthPrefixes.slice(0, 3)) paths.push(`${prefix}headers["${header}"]`);
  }
  return paths;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    name: config.name,
    level: config.level,
    redact: { paths: redactPaths(), censor: REDACTED },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // Every string of every line (message, bound and logged fields, error messages and stacks) has secrets,
      // e-mail addresses and card numbers taken out: a refusal reason or a vendor's error may quote what a client
      // sent. Done on the finished line, so child bindings (which pino formats once, outside the log formatter) too.
      streamWrite: scrubJsonStrings,
    },
  };
  return config.destination === undefined ? pino(options) : pino(options, config.destination);
}

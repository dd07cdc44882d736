import { pino } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

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

export const REDACTED = '[redacted]';

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

/**
 * Secrets and e-mail addresses that end up inside free text (messages, error messages, stacks): key redaction
 * cannot see them. Key patterns follow Stripe (sk_/rk_ live|test, whsec_) and Mavera (mvra_live_/mvra_test_).
 */
const secretInText =
  /(?:sk|rk)_(?:live|test)_[0-9A-Za-z]+|whsec_[0-9A-Za-z+/=]+|mvra_(?:live|test)_[0-9A-Za-z_-]+|[0-9A-Za-z._%+-]+@[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)+/g;

export function scrubText(text: string): string {
  return text.replace(secretInText, REDACTED);
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth === 0 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => scrubValue(item, depth - 1));
  const scrubbed: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) scrubbed[key] = scrubValue(item, depth - 1);
  return scrubbed;
}

/** pino's error serializer, then every string in the result (message, stack, causes, own props) scrubbed. */
function serializeError(error: unknown): unknown {
  return error instanceof Error ? scrubValue(pino.stdSerializers.err(error), 3) : error;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    name: config.name,
    level: config.level,
    redact: { paths: redactPaths(), censor: REDACTED },
    serializers: { err: serializeError, error: serializeError },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        // pino fills an absent message from the error's own message, after this hook; supply it scrubbed.
        const error = first instanceof Error ? first : errorOf(first);
        const scrubbed =
          error !== undefined && typeof rest[0] !== 'string'
            ? [first, scrubText(error.message), ...rest]
            : [first, ...rest].map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg));
        Reflect.apply(method, this, scrubbed);
      },
    },
  };
  return config.destination === undefined ? pino(options) : pino(options, config.destination);
}

function errorOf(mergeObject: unknown): Error | undefined {
  if (typeof mergeObject !== 'object' || mergeObject === null || !('err' in mergeObject)) return undefined;
  return mergeObject.err instanceof Error ? mergeObject.err : undefined;
}

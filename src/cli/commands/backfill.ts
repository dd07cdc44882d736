import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { topicCatalogue, topicName, type TopicRole } from '../../adapters/kafka/topic-catalogue.js';
import { openCanonicalPublisher } from '../../backfill/canonical-publisher.js';
import {
  CursorFile,
  CursorFileError,
  CursorMismatchError,
  defaultCursorPath,
  segmentCursorSchema,
  STRIPE_BACKFILL_TYPES,
  stripeCursorSchema,
  type StripeBackfillType,
} from '../../backfill/cursor-file.js';
import { ProgressReporter } from '../../backfill/progress.js';
import {
  DEFAULT_PROFILE_API_URL,
  DEFAULT_SEGMENT_BACKFILL_RATE,
  ProfileApiClient,
} from '../../backfill/segment/profile-api.js';
import { runSegmentBackfill } from '../../backfill/segment/segment-backfill.js';
import { parseUserList } from '../../backfill/segment/user-list.js';
import { createStripeApi, DEFAULT_STRIPE_BACKFILL_RATE } from '../../backfill/stripe/stripe-api.js';
import { runStripeEventCatchUp } from '../../backfill/stripe/stripe-event-catch-up.js';
import { runStripeObjectBackfill, type BackfillOutcome } from '../../backfill/stripe/stripe-object-backfill.js';
import { TokenBucket } from '../../backfill/token-bucket.js';
import { loadEnv, type EnvConfig } from '../../config/env.js';
import { ChargeCustomerResolver, stripeChargeLookup } from '../../connectors/stripe/charge-customer-resolver.js';
import { createLogger, type Logger } from '../../log/logger.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';

const PROGRESS_INTERVAL_MS = 5_000;
/** Exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT), as shells report it. */
const INTERRUPTED = 130;

const HELP = `Usage:
  persona-stream backfill stripe [--types LIST] [--since ISO] [--rate N] [--cursor-file PATH] [--restart] [--page-size N]
  persona-stream backfill stripe --events [--since ISO] [--rate N] [--cursor-file PATH] [--restart]
  persona-stream backfill segment --users FILE|- [--rate N] [--concurrency N] [--cursor-file PATH] [--restart]

stripe           every customer, subscription (status=all), invoice, charge, payment method and dispute, each
                 published on stripe.events as the event of its current state (deterministic id: a rerun
                 publishes duplicates the processor drops). Needs STRIPE_API_KEY (a read-only restricted key).
  --types LIST   comma-separated subset of ${STRIPE_BACKFILL_TYPES.join(',')} (default: all)
  --since ISO    only objects created at or after this instant
stripe --events  catch-up after downtime: /v1/events (30 days kept by Stripe) from --since, else from the newest
                 event the last catch-up published, else from the start of the last object backfill
segment          Profile API traits of each user id in FILE (one per line, - for stdin), published on
                 segment.events as identify calls. Needs SEGMENT_TOKEN and SEGMENT_SPACE_ID.
  --concurrency N  users fetched at once (default 10)
common
  --rate N       requests per second (default: Stripe 25 or STRIPE_BACKFILL_RATE, Segment 100 or SEGMENT_BACKFILL_RATE)
  --cursor-file PATH  where progress is kept (default: one file per account under the OS temp dir); an
                 interrupted run continues from the last page the broker acknowledged
  --restart      ignore the cursor file and start over
`;

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === 'stripe') return backfillStripe(rest, io);
  if (subcommand === 'segment') return backfillSegment(rest, io);
  if (subcommand === '--help' || subcommand === '-h' || subcommand === 'help') {
    io.stdout(HELP);
    return 0;
  }
  throw new UsageError('the subcommand is stripe or segment (backfill --help for the options)');
}

async function backfillStripe(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      types: { type: 'string' },
      since: { type: 'string' },
      events: { type: 'boolean', default: false },
      rate: { type: 'string' },
      'cursor-file': { type: 'string' },
      restart: { type: 'boolean', default: false },
      'page-size': { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  if (values.events && values.types !== undefined) throw new UsageError('--types does not apply to --events');
  const types = parseTypes(values.types);
  const since = parseSince(values.since);
  const pageSize = parseWhole(values['page-size'], '--page-size', 1, 100) ?? 100;
  const concurrency = parseWhole(values.concurrency, '--concurrency', 1, 32) ?? 4;
  const env = loadEnv(io.env);
  const apiKey = env.stripe.apiKey;
  if (apiKey === undefined) {
    throw new Error(
      'STRIPE_API_KEY is not set: the backfill reads the Stripe API with it (a read-only rk_… key will do)',
    );
  }
  const rate = parseRate(values.rate) ?? env.stripe.backfillRatePerSecond ?? DEFAULT_STRIPE_BACKFILL_RATE;

  return withRun(io, env, 'stripe-events', async ({ kafka, topic, logger, signal }) => {
    const cursorFile = new CursorFile(
      values['cursor-file'] ?? defaultCursorPath('stripe', `${apiKey}\n${topic}`),
      stripeCursorSchema,
    );
    const bucket = new TokenBucket(rate);
    const stripe = createStripeApi({
      apiKey,
      apiUrl: env.stripe.apiUrl,
      bucket,
      signal,
      onRateLimited: (waitMs, path) => {
        logger.info({ waitMs, path: path.split('?')[0] }, 'Stripe answered 429: waiting, then retrying');
      },
    });
    const sink = await openCanonicalPublisher(env, kafka, topic);
    const progress = new ProgressReporter('backfill stripe', io.stderr, io.now, PROGRESS_INTERVAL_MS);
    const deps = { stripe, sink, topic, cursorFile, progress, logger, now: io.now, signal };
    progress.start();
    let outcome: BackfillOutcome;
    try {
      outcome = values.events
        ? await runStripeEventCatchUp(
            {
              since,
              restart: values.restart,
              pageSize,
              chargeCustomers: new ChargeCustomerResolver(stripeChargeLookup(stripe)),
            },
            deps,
          )
        : await runStripeObjectBackfill({ types, since, restart: values.restart, pageSize, concurrency }, deps);
    } catch (error) {
      progress.finish(false);
      throw new RunFailure(cursorFile.path, error);
    } finally {
      await sink.disconnect();
    }
    if (outcome.status === 'already_finished') {
      io.stderr(`backfill stripe: ${cursorFile.path} says this backfill already finished; --restart runs it again\n`);
      return 0;
    }
    progress.finish(true);
    io.stderr(
      `backfill stripe: ${outcome.published} events published to ${topic}, ${outcome.skipped} skipped (no customer ` +
        `or unused type), ${outcome.invalid} invalid (see the log); cursor ${cursorFile.path}\n`,
    );
    return outcome.invalid > 0 ? 1 : 0;
  });
}

async function backfillSegment(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      users: { type: 'string' },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      'cursor-file': { type: 'string' },
      restart: { type: 'boolean', default: false },
    },
  });
  if (values.users === undefined) throw new UsageError('--users FILE|- is required (one user id per line)');
  const concurrency = parseWhole(values.concurrency, '--concurrency', 1, 100) ?? 10;
  const env = loadEnv(io.env);
  const { token, spaceId } = env.segment;
  if (token === undefined || spaceId === undefined) {
    throw new Error('SEGMENT_TOKEN and SEGMENT_SPACE_ID must be set: the backfill reads the Segment Profile API');
  }
  const rate = parseRate(values.rate) ?? env.segment.backfillRatePerSecond ?? DEFAULT_SEGMENT_BACKFILL_RATE;
  const users = parseUserList(await io.readInput(values.users));
  if (users.length === 0) throw new UsageError(`no user ids in ${values.users === '-' ? 'stdin' : values.users}`);

  return withRun(io, env, 'segment-events', async ({ kafka, topic, logger, signal }) => {
    const cursorFile = new CursorFile(
      values['cursor-file'] ?? defaultCursorPath('segment', `${spaceId}\n${topic}`),
      segmentCursorSchema,
    );
    const client = new ProfileApiClient({
      baseUrl: env.segment.profileApiUrl ?? DEFAULT_PROFILE_API_URL,
      spaceId,
      token,
      bucket: new TokenBucket(rate),
      signal,
    });
    const sink = await openCanonicalPublisher(env, kafka, topic);
    const progress = new ProgressReporter('backfill segment', io.stderr, io.now, PROGRESS_INTERVAL_MS);
    progress.start();
    let outcome;
    try {
      outcome = await runSegmentBackfill(
        { users, restart: values.restart, concurrency, batchSize: 100 },
        { client, sink, topic, cursorFile, progress, logger, now: io.now, signal },
      );
    } catch (error) {
      progress.finish(false);
      throw new RunFailure(cursorFile.path, error);
    } finally {
      await sink.disconnect();
    }
    if (outcome.status === 'already_finished') {
      io.stderr(`backfill segment: ${cursorFile.path} says this list was already done; --restart runs it again\n`);
      return 0;
    }
    progress.finish(true);
    io.stderr(
      `backfill segment: ${outcome.published} users published to ${topic}, ${outcome.notFound} without a profile, ` +
        `${outcome.failed} failed (see the log); ${client.requests} requests; cursor ${cursorFile.path}\n`,
    );
    return outcome.failed > 0 ? 1 : 0;
  });
}

/** A run that stopped: the cursor file to continue from, and why. */
class RunFailure extends Error {
  constructor(
    readonly cursorPath: string,
    readonly reason: unknown,
  ) {
    super(reason instanceof Error ? reason.message : String(reason), { cause: reason });
    this.name = 'RunFailure';
  }
}

interface RunContext {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/**
 * The frame of both backfills: Kafka client and topic, a logger on stderr, and SIGINT/SIGTERM turned into an abort
 * that stops the run between requests (the cursor keeps the last acknowledged page; exit 130).
 */
async function withRun(
  io: CliIo,
  env: EnvConfig,
  role: TopicRole,
  body: (context: RunContext) => Promise<number>,
): Promise<number> {
  const logger = createLogger({ level: env.logLevel, name: 'backfill', destination: process.stderr });
  const kafka = createKafka(env.kafka, logger);
  const topic = topicName(topicCatalogue({ prefix: env.kafka.topicPrefix }), role);
  const controller = new AbortController();
  const stop = (): void => {
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await body({ kafka, topic, logger, signal: controller.signal });
  } catch (error) {
    if (!(error instanceof RunFailure)) throw error;
    if (controller.signal.aborted) {
      io.stderr(`backfill: interrupted; run the same command again to continue from ${error.cursorPath}\n`);
      return INTERRUPTED;
    }
    if (error.reason instanceof CursorMismatchError || error.reason instanceof CursorFileError) throw error.reason;
    throw new Error(`${error.message} (the same command continues from ${error.cursorPath})`, { cause: error });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function parseTypes(value: string | undefined): StripeBackfillType[] {
  if (value === undefined) return [...STRIPE_BACKFILL_TYPES];
  const types: StripeBackfillType[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    const type = STRIPE_BACKFILL_TYPES.find((candidate) => candidate === entry);
    if (type === undefined) {
      throw new UsageError(`--types: "${entry}" is not one of ${STRIPE_BACKFILL_TYPES.join(', ')}`);
    }
    if (!types.includes(type)) types.push(type);
  }
  return types;
}

/** `--since` as Unix seconds (Stripe's `created` unit). */
function parseSince(value: string | undefined): number | null {
  if (value === undefined) return null;
  const at = Date.parse(value);
  if (!Number.isFinite(at) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(`--since expects an ISO-8601 date or date-time such as 2026-01-31T00:00:00Z, got "${value}"`);
  }
  return Math.floor(at / 1000);
}

function parseRate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(rate > 0) || rate > 1_000) {
    throw new UsageError(`--rate expects requests per second, more than 0 and at most 1000, got "${value}"`);
  }
  return rate;
}

function parseWhole(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= min && parsed <= max)) throw new UsageError(`${flag} expects a whole number from ${min} to ${max}`);
  return parsed;
}

export const backfillCommand: Command = {
  name: 'backfill',
  usage: 'backfill stripe|segment [options]',
  summary:
    'pull history from the Stripe list/events APIs or the Segment Profile API onto the event topics; resumable, rate-limited, progress on stderr (backfill --help)',
  run,
};

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { startConnectorsRole } from '../../src/roles/connectors-role.js';
import { postAll, type LoadRequest, type LoadResult } from '../http-load.js';
import type { BenchCluster } from '../kafka/bench-cluster.js';
import { benchRuntime, createRuntimeTopics } from '../kafka/bench-runtime.js';
import type { Row, ScenarioReport } from '../report.js';
import { formatCount, formatMs, formatRate, formatSpread, spreadOf, type Spread } from '../stats.js';

export interface WebhookOptions {
  /** Signed Stripe webhooks per run. */
  readonly stripeRequests: number;
  /** Segment /v1/batch requests per run. */
  readonly segmentBatches: number;
  readonly messagesPerBatch: number;
  /** Requests in flight. */
  readonly concurrency: number;
  readonly runs: number;
  readonly partitions: number;
}

interface IngestFigures {
  /** Events (Stripe) or messages (Segment) answered 200 per second of wall time. */
  readonly perSecond: Spread;
  readonly p50Ms: Spread;
  readonly p99Ms: Spread;
  readonly non200: number;
}

export interface WebhookDetails {
  readonly concurrency: number;
  readonly stripe: IngestFigures & { readonly requests: number };
  readonly segment: IngestFigures & { readonly batches: number; readonly messagesPerBatch: number };
}

const STRIPE_SECRET = 'whsec_bench';
const WRITE_KEY = 'wk_bench';
const START = Date.UTC(2026, 0, 1);

/**
 * Scenario 6: the connectors role as deployed (`all` and the connector commands start the same role): signed Stripe
 * webhooks to POST /webhooks/stripe and Segment batches to POST /v1/batch (write-key auth), over loopback, each
 * answered 200 only after the broker acknowledged its events. Runs alternate Stripe and Segment load.
 */
export async function runWebhookScenario(
  options: WebhookOptions,
  cluster: BenchCluster,
  log: (line: string) => void,
): Promise<ScenarioReport> {
  const broker = await cluster.scenarioBroker();
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-bench-webhooks-'));
  try {
    await createRuntimeTopics(broker, options.partitions);
    const runtime = await benchRuntime(broker, {
      stateDir,
      generation: 0,
      env: {
        HTTP_PORT: '0',
        STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
        SEGMENT_WRITE_KEYS: WRITE_KEY,
        SEGMENT_SHARED_SECRET: 'bench-shared-secret',
      },
    });
    const role = await startConnectorsRole(runtime, { stripe: true, segment: true });
    try {
      const stripePayloads = stripeEvents(options.stripeRequests);
      const messages = segmentMessages(options.segmentBatches * options.messagesPerBatch);
      const stripeRuns: LoadResult[] = [];
      const segmentRuns: LoadResult[] = [];
      log(
        `webhooks: a warm-up round, then ${String(options.runs)} runs of ${formatCount(stripePayloads.length)} signed Stripe webhooks and ${formatCount(options.segmentBatches)} Segment batches of ${String(options.messagesPerBatch)}, ${String(options.concurrency)} in flight`,
      );
      // Round 0 is not counted: on Apache Kafka the first write to each new partition creates its log segment and
      // index files and the broker's JIT compiles the produce path, which made the first round markedly slower than
      // the next; a deployed broker has long done both.
      for (let run = 0; run <= options.runs; run++) {
        const stripe = await postAll(role.port, signed(stripePayloads), options.concurrency);
        const segment = await postAll(
          role.port,
          segmentBatches(messages, options.messagesPerBatch, run),
          options.concurrency,
        );
        if (run === 0) continue;
        stripeRuns.push(stripe);
        segmentRuns.push(segment);
        log(
          `webhooks: run ${String(run)}: Stripe ${formatRate(accepted(stripe) / stripe.seconds)} (p99 ${formatMs(stripe.p99Ms)}), Segment ${formatRate((accepted(segment) * options.messagesPerBatch) / segment.seconds)} messages (p99 ${formatMs(segment.p99Ms)})`,
        );
      }
      const details: WebhookDetails = {
        concurrency: options.concurrency,
        stripe: { requests: stripePayloads.length, ...figures(stripeRuns, 1) },
        segment: {
          batches: options.segmentBatches,
          messagesPerBatch: options.messagesPerBatch,
          ...figures(segmentRuns, options.messagesPerBatch),
        },
      };
      return { scenario: 'webhooks', rows: webhookRows(details), details };
    } finally {
      await role.stop();
    }
  } finally {
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function accepted(result: LoadResult): number {
  return result.requests - result.non200;
}

function figures(runs: readonly LoadResult[], eventsPerRequest: number): IngestFigures {
  return {
    perSecond: spreadOf(runs.map((run) => (accepted(run) * eventsPerRequest) / run.seconds)),
    p50Ms: spreadOf(runs.map((run) => run.p50Ms)),
    p99Ms: spreadOf(runs.map((run) => run.p99Ms)),
    non200: runs.reduce((sum, run) => sum + run.non200, 0),
  };
}

function webhookRows(details: WebhookDetails): Row[] {
  const latency = (figures: IngestFigures) =>
    `${formatSpread(figures.perSecond, formatRate)}; per request p50 ${formatMs(figures.p50Ms.median)}, p99 ${formatMs(figures.p99Ms.median)} (median of runs)${figures.non200 > 0 ? `; ${String(figures.non200)} NOT answered 200` : ''}`;
  return [
    {
      scenario: 'webhooks',
      figure: `Stripe: signed webhooks accepted/s with broker ack (${formatCount(details.stripe.requests)} per run, ${String(details.concurrency)} in flight)`,
      value: details.stripe.perSecond.median,
      unit: 'events/s',
      median: formatRate(details.stripe.perSecond.median),
      spread: latency(details.stripe),
      goal: null,
    },
    {
      scenario: 'webhooks',
      figure: `Segment /v1/batch: messages accepted/s with broker ack (${formatCount(details.segment.batches)} batches × ${String(details.segment.messagesPerBatch)} per run, ${String(details.concurrency)} in flight)`,
      value: details.segment.perSecond.median,
      unit: 'messages/s',
      median: formatRate(details.segment.perSecond.median),
      spread: latency(details.segment),
      goal: null,
    },
  ];
}

/** Generated Stripe events as Stripe sends them: the event JSON, one per webhook. */
function stripeEvents(count: number): string[] {
  return generateTraffic({ seed: 5, customers: Math.ceil(count / 8), users: 0, months: 6, start: START })
    .filter((event) => event.source === 'stripe')
    .slice(0, count)
    .map((event) => JSON.stringify(event.raw));
}

/** Signed now: Stripe-Signature carries a timestamp the route holds to a 300 s tolerance. */
function signed(payloads: readonly string[]): LoadRequest[] {
  return payloads.map((payload) => ({
    path: '/webhooks/stripe',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET }),
    },
    body: payload,
  }));
}

/** Generated Segment Tracking API messages (track and identify of generated users). */
function segmentMessages(count: number): Record<string, unknown>[] {
  const messages: Record<string, unknown>[] = [];
  for (let seed = 7; messages.length < count; seed++) {
    for (const event of generateTraffic({ seed, customers: 0, users: 2_000, months: 6, start: START })) {
      if (messages.length >= count) break;
      messages.push(event.raw);
    }
  }
  return messages;
}

/** The messages as /v1/batch calls, with message ids unique to the run (as new traffic would have). */
function segmentBatches(messages: readonly Record<string, unknown>[], size: number, run: number): LoadRequest[] {
  const authorization = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  const requests: LoadRequest[] = [];
  for (let start = 0; start < messages.length; start += size) {
    const batch = messages
      .slice(start, start + size)
      .map((message, i) => ({ ...message, messageId: `bench-${String(run)}-${String(start + i)}` }));
    requests.push({
      path: '/v1/batch',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
    });
  }
  return requests;
}

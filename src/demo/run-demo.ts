import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../config/env.js';
import { SegmentIndex } from '../domain/segments/segment-index.js';
import type { FlushReport } from '../flusher/flush-report.js';
import { createLogger } from '../log/logger.js';
import { profileFromRecord } from '../records/profile-record.js';
import type { PersonaUpdate } from '../records/persona-update.js';
import { startConnectorsRole } from '../roles/connectors-role.js';
import { startFlusherRole, type FlusherRole } from '../roles/flusher-role.js';
import { startProcessorRole } from '../roles/processor-role.js';
import { createRuntime, type Runtime } from '../roles/runtime.js';
import { AuditLog } from './audit-log.js';
import { CLOCK_CUSTOMER_PREFIX, closingEvents, closingInstant } from './closing-events.js';
import { EmbeddedBrokerUnavailableError, startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { assertNoPipelineRunning, verifyDemoTopics } from './external-cluster.js';
import { given, type DemoIo } from './demo-io.js';
import { demoTraffic, months, type DemoSizes } from './demo-sizes.js';
import { DemoProgress } from './demo-progress.js';
import { demoReportText, selectFinalAudit, type DemoReport } from './demo-report.js';
import {
  DEMO_SEGMENT_WRITE_KEY,
  DEMO_STRIPE_WEBHOOK_SECRET,
  demoEnvironment,
  demoPipelineConfig,
} from './demo-settings.js';
import { PipelineReadings, recordsConsumed, totalOf } from './pipeline-readings.js';
import { ProfileTable } from './profile-table.js';
import { startTogether, Teardown } from './teardown.js';
import { generateTraffic } from './traffic-generator.js';
import { TrafficSender } from './traffic-sender.js';
import { DemoInterruptedError, waitFor, waitUntil } from './wait-until.js';

const PROGRESS_INTERVAL_MS = 2_000;
/** Per stage (processing, loading the profiles, the final flush): far beyond what the default sizes need. */
const STAGE_TIMEOUT_MS = 180_000;

/**
 * `persona-stream demo`: the whole pipeline in one process on generated traffic. Starts the embedded broker (or
 * uses KAFKA_BROKERS), the flusher, processor and connectors roles; sends the traffic through the connectors' HTTP
 * paths (signed Stripe webhooks, Segment Tracking API batches) and then one closing event per partition at a common
 * instant, so every profile is judged then; prints progress as it goes, then what went in, the profiles, the
 * segment summaries and every persona create/update the flusher would send (or sent, with MAVERA_API_KEY). Stops
 * every role and the broker before returning 0.
 */
export async function runDemo(io: DemoIo, sizes: DemoSizes): Promise<number> {
  const startedAt = io.now();
  const teardown = new Teardown();
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    io.stderr(`demo: ${signal}: stopping (again to exit at once)\n`);
    abort.abort(new DemoInterruptedError(signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const scratch = await mkdtemp(join(tmpdir(), 'persona-stream-demo-'));
  try {
    const traffic = generateTraffic(demoTraffic(sizes));
    const stripeCount = traffic.filter((event) => event.source === 'stripe').length;
    io.stderr(
      `demo: generated ${String(stripeCount)} Stripe events for ${String(sizes.customers)} customers and ` +
        `${String(traffic.length - stripeCount)} Segment messages for ${String(sizes.users)} users over ` +
        `${months(sizes.months)} (seed ${String(sizes.seed)})\n`,
    );

    let embedded: EmbeddedKafka | undefined;
    if (given(io.env, 'KAFKA_BROKERS') === undefined) {
      const topicPrefix = `persona-stream-demo.${startedAt.toString(36)}${randomBytes(2).toString('hex')}.`;
      let broker: EmbeddedBroker;
      try {
        broker = await startEmbeddedBroker(topicPrefix, (line) => {
          io.stderr(`demo: ${line}\n`);
        });
      } catch (error) {
        if (!(error instanceof EmbeddedBrokerUnavailableError)) throw error;
        io.stderr(`demo: KAFKA_BROKERS is not set and ${error.message}\n`);
        return 1;
      }
      io.stderr(`demo: KAFKA_BROKERS is not set: embedded broker: ${broker.description}\n`);
      teardown.stage().add(() => broker.stop());
      embedded = {
        brokers: broker.bootstrapServers,
        topicPrefix,
        partitions: broker.eventPartitions,
        idempotent: broker.kind !== 'mock',
      };
    }
    const runtime = await demoRuntime(io, embedded, scratch);
    const { env, topics } = runtime;
    const partitions =
      embedded?.partitions ??
      (await verifyDemoTopics(runtime.kafka, env.kafka.topicPrefix, topics, Object.values(topics)));
    if (embedded === undefined) {
      await assertNoPipelineRunning(runtime.kafka, [runtime.processorGroup, `${env.kafka.topicPrefix}flusher`]);
      io.stderr(`demo: using KAFKA_BROKERS, topics ${env.kafka.topicPrefix}*\n`);
    }
    abort.signal.throwIfAborted();
    const closingAt = closingInstant(traffic, env.processor.refreshIntervalMs);
    const closing = closingEvents(closingAt, partitions);

    const ops = await runtime.startOps();
    teardown.stage().add(() => ops.close());
    const roles = teardown.stage();
    const progress = new DemoProgress(startedAt);
    // The connectors first, so traffic flows at once; the consumers join their groups meanwhile (seconds each on
    // any broker) and read from the beginning.
    const [connectors] = await startTogether(roles, [startConnectorsRole(runtime, { stripe: true, segment: true })]);
    const sender = new TrafficSender({
      baseUrl: `http://127.0.0.1:${String(connectors.port)}`,
      stripeWebhookSecret: DEMO_STRIPE_WEBHOOK_SECRET,
      segmentWriteKey: DEMO_SEGMENT_WRITE_KEY,
    });
    const consumersStarted = startTogether(roles, [
      startFlusherRole(runtime, {
        onReport: (report) => {
          progress.flushed(report);
        },
      }),
      startProcessorRole(runtime, {
        observer: {
          batchProcessed: (report) => {
            progress.batchProcessed(report);
          },
        },
      }),
      ProfileTable.open(runtime.kafka, topics.profiles, env.kafka.topicPrefix),
      AuditLog.open(runtime.kafka, topics.personaUpdates, env.kafka.topicPrefix),
    ]);
    consumersStarted.catch((error: unknown) => {
      sender.stop(error instanceof Error ? error : new Error(String(error)));
    });
    const stopSending = () => {
      const reason: unknown = abort.signal.reason;
      sender.stop(reason instanceof Error ? reason : new DemoInterruptedError('a signal'));
    };
    if (abort.signal.aborted) stopSending();
    else abort.signal.addEventListener('abort', stopSending);
    const ticker = setInterval(() => {
      io.stderr(progress.line(io.now(), sender.accepted, sender.simulatedAt));
    }, PROGRESS_INTERVAL_MS);
    teardown.stage().add(() => {
      clearInterval(ticker);
      return Promise.resolve();
    });
    io.stderr(
      `demo: connectors on http://127.0.0.1:${String(connectors.port)} (Stripe webhooks, Segment Tracking API), ` +
        `metrics on http://127.0.0.1:${String(ops.port)}/metrics; ` +
        (env.mavera.dryRun || env.mavera.apiKey === undefined
          ? 'dry run (no MAVERA_API_KEY): personas are printed, not sent\n'
          : `personas go to ${env.mavera.baseUrl}\n`),
    );

    await sender.send(traffic);
    // Last, once everything else is acknowledged: every partition's watermark ends at the same instant.
    await sender.send(closing);
    const [flusher, , table, audit] = await consumersStarted;
    io.stderr(progress.line(io.now(), sender.accepted, sender.simulatedAt));

    const { eventRecords, finalFlush } = await settle(runtime, { flusher, table, audit }, abort.signal);
    clearInterval(ticker);

    const report = await buildReport(runtime, {
      startedAt,
      finishedAt: io.now(),
      sender,
      closing: { events: closing.length, at: closingAt },
      eventRecords,
      progress,
      table,
      audit,
      finalFlush,
    });
    io.stdout(demoReportText(report));
    return 0;
  } catch (error) {
    if (!(error instanceof DemoInterruptedError)) throw error;
    io.stderr(`demo: ${error.message}; stopping every role and the broker\n`);
    return 130;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown.run((error) => {
      io.stderr(`demo: stopping: ${error instanceof Error ? error.message : String(error)}\n`);
    });
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Waits until the processor has committed every event on the topics, and the flusher and the report's table have
 * read every profile it wrote; then the final flush, over the complete profiles table (the flusher also flushed
 * every FLUSH_INTERVAL_MS on the way).
 */
async function settle(
  runtime: Runtime,
  roles: { readonly flusher: FlusherRole; readonly table: ProfileTable; readonly audit: AuditLog },
  signal: AbortSignal,
): Promise<{ eventRecords: { stripe: number; segment: number }; finalFlush: FlushReport }> {
  const { topics } = runtime;
  const readings = await PipelineReadings.open(runtime.kafka);
  try {
    const stripeEnds = await readings.endOffsets(topics.stripeEvents);
    const segmentEnds = await readings.endOffsets(topics.segmentEvents);
    const eventRecords = { stripe: totalOf(stripeEnds), segment: totalOf(segmentEnds) };
    await waitUntil(
      async () =>
        (await readings.hasCommitted(runtime.processorGroup, topics.stripeEvents, stripeEnds)) &&
        (await readings.hasCommitted(runtime.processorGroup, topics.segmentEvents, segmentEnds)),
      {
        timeoutMs: STAGE_TIMEOUT_MS,
        waitingFor: `the processor to commit all ${String(eventRecords.stripe + eventRecords.segment)} event records`,
        signal,
      },
    );
    const profileEnds = await readings.endOffsets(topics.profiles);
    const profileRecords = totalOf(profileEnds);
    await waitUntil(
      async () =>
        roles.table.hasReached(profileEnds) &&
        (await recordsConsumed(runtime.metrics, topics.profiles)) >= profileRecords,
      { timeoutMs: STAGE_TIMEOUT_MS, waitingFor: `the flusher to read all ${String(profileRecords)} profiles`, signal },
    );
    const finalFlush = await waitFor(() => roles.flusher.flushNow(), {
      timeoutMs: STAGE_TIMEOUT_MS,
      waitingFor: 'the flusher to hold its lock and flush',
      signal,
    });
    // The flush's audit records were acknowledged before it returned.
    const auditEnds = await readings.endOffsets(topics.personaUpdates);
    await waitUntil(() => roles.audit.hasReached(auditEnds), {
      timeoutMs: STAGE_TIMEOUT_MS,
      waitingFor: 'the audit of the final flush',
      signal,
    });
    return { eventRecords, finalFlush };
  } finally {
    await readings.close();
  }
}

interface EmbeddedKafka {
  readonly brokers: readonly string[];
  readonly topicPrefix: string;
  readonly partitions: number;
  readonly idempotent: boolean;
}

/** The runtime of the demo's roles: the user's environment with the demo's settings, its pipeline file, a logger on stderr. */
async function demoRuntime(io: DemoIo, embedded: EmbeddedKafka | undefined, scratch: string): Promise<Runtime> {
  const pipelineConfigPath = join(scratch, 'pipeline.json');
  await writeFile(pipelineConfigPath, JSON.stringify(demoPipelineConfig(given(io.env, 'REPORTING_CURRENCY') ?? 'usd')));
  const env = loadEnv(demoEnvironment(io.env, { embedded, stateDir: join(scratch, 'state'), pipelineConfigPath }));
  // The connectors' producer keeps kafkajs' default partitioner on purpose; its notice is noise in a demo.
  process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
  const logger = createLogger({ level: env.logLevel, name: 'demo', destination: process.stderr });
  return createRuntime(env, logger, { now: io.now });
}

async function buildReport(
  runtime: Runtime,
  run: {
    readonly startedAt: number;
    readonly finishedAt: number;
    readonly sender: TrafficSender;
    readonly closing: { readonly events: number; readonly at: number };
    /** Records on the event topics. */
    readonly eventRecords: { readonly stripe: number; readonly segment: number };
    readonly progress: DemoProgress;
    readonly table: ProfileTable;
    readonly audit: AuditLog;
    readonly finalFlush: FlushReport;
  },
): Promise<DemoReport> {
  const { serdes } = runtime;
  const profiles = [];
  for (const value of run.table.values().values()) profiles.push(profileFromRecord(await serdes.profile.decode(value)));
  profiles.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const index = new SegmentIndex(runtime.pipeline.config.segments);
  for (const profile of profiles) index.upsert(profile);

  const audit: PersonaUpdate[] = [];
  for (const value of run.audit.records()) audit.push(await serdes.update.decode(value));
  const dryRun = run.finalFlush.dryRun;
  const segmentKeys = run.finalFlush.outcomes
    .filter((outcome) => !dryRun || outcome.action !== 'none')
    .map((outcome) => outcome.segmentKey);

  return {
    seconds: (run.finishedAt - run.startedAt) / 1_000,
    input: {
      stripeWebhooks: run.sender.stripeEvents,
      segmentMessages: run.sender.segmentMessages,
      segmentBatches: run.sender.segmentBatches,
      closingEvents: run.closing.events,
      closingAt: run.closing.at,
    },
    topics: { stripeEvents: run.eventRecords.stripe, segmentEvents: run.eventRecords.segment },
    processor: {
      records: run.progress.records,
      deadLetters: run.progress.deadLetters,
      watermarks: run.progress.watermarks,
    },
    profiles,
    clockProfiles: profiles.filter((profile) => profile.entityId.startsWith(CLOCK_CUSTOMER_PREFIX)).length,
    summaries: index.summaries(),
    flushes: run.progress.flushes,
    personas: { dryRun, records: selectFinalAudit(segmentKeys, audit, { dryRun, since: run.startedAt }) },
  };
}

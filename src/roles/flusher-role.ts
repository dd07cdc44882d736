import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { trackConsumerHealth } from '../adapters/health/consumer-health.js';
import { LeaderLock } from '../adapters/kafka/leader-lock.js';
import { RecordDecodeError } from '../adapters/kafka/record-serde.js';
import { SerialProducer } from '../adapters/kafka/serial-producer.js';
import { readTopicToEnd } from '../adapters/kafka/topic-reader.js';
import { FlushEngine, FlushOutputError, formatDryRunDiff, type FlushReport } from '../flusher/index.js';
import { encodeDeadLetterValue, type DeadLetter } from '../records/dead-letter.js';
import type { PersonaRegistryEntry } from '../records/persona-registry.js';
import type { RunningRole } from './processor-role.js';
import type { Runtime } from './runtime.js';

export interface FlusherRole extends RunningRole {
  readonly engine: FlushEngine;
  /** True while this replica holds the flusher lock. */
  readonly active: boolean;
  /** Runs one flush now (when active and loaded); resolves with its report, or undefined when it did not run. */
  flushNow(): Promise<FlushReport | undefined>;
}

export interface FlusherRoleOptions {
  /** Every finished flush (tests, the demo's printout). */
  readonly onReport?: (report: FlushReport) => void;
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * The flusher role: every replica reads the whole profiles table (a warm standby), one replica — the holder of the
 * lock — restores the persona registry and every FLUSH_INTERVAL_MS (and once more on shutdown) sends Mavera the
 * material changes of the segment summaries.
 */
export async function startFlusherRole(runtime: Runtime, options: FlusherRoleOptions = {}): Promise<FlusherRole> {
  const { env, topics, serdes, metrics, logger: rootLogger } = runtime;
  const logger = rootLogger.child({ role: 'flusher' });
  // Idempotent: a produce retried after a lost ack does not write an audit or registry record twice.
  const producer = new SerialProducer(runtime.kafka, { idempotent: env.kafka.idempotent });
  await producer.connect();
  const send = async (topic: string, messages: { key: string | null; value: Buffer }[]) => {
    await producer.send(topic, messages);
    metrics.recordsProduced.inc({ topic }, messages.length);
  };
  const engine = new FlushEngine({
    config: runtime.pipeline.config,
    mavera: env.mavera,
    logger,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    onRequest: (event) => {
      metrics.maveraRequestDuration.observe({ endpoint: event.endpoint }, event.durationMs / 1_000);
    },
    outputs: {
      writeRegistry: async (entries) =>
        send(
          topics.personas,
          await Promise.all(
            entries.map(async (entry) => ({ key: entry.segment_key, value: await serdes.registry.encode(entry) })),
          ),
        ),
      writeAudit: async (records) => {
        if (engine.dryRun) process.stdout.write(formatDryRunDiff(records));
        await send(
          topics.personaUpdates,
          await Promise.all(
            records.map(async (record) => ({ key: record.segment_key, value: await serdes.update.encode(record) })),
          ),
        );
      },
      writeDeadLetters: async (records) => {
        for (const record of records) metrics.dlqRecords.inc({ reason: record.error_code });
        await send(
          topics.deadLetters,
          await Promise.all(
            records.map(async (record) => ({ key: record.key, value: await serdes.deadLetter.encode(record) })),
          ),
        );
      },
    },
  });

  // The profiles table: a group of its own per replica, always from the beginning (no offsets are committed).
  const profiles: Consumer = runtime.kafka.consumer({
    groupId: `${env.kafka.topicPrefix}flusher.profiles.${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
    sessionTimeout: env.sessionTimeoutMs,
  });
  const admin = runtime.kafka.admin();
  await admin.connect();
  const loadTarget = new Map<number, bigint>();
  for (const entry of await admin.fetchTopicOffsets(topics.profiles)) {
    if (BigInt(entry.high) > BigInt(entry.low)) loadTarget.set(entry.partition, BigInt(entry.high));
  }
  await admin.disconnect();
  let profilesLoaded = loadTarget.size === 0;
  const onProfiles = async ({ batch }: EachBatchPayload) => {
    const deadLetters: DeadLetter[] = [];
    for (const message of batch.messages) {
      const key = message.key?.toString('utf8');
      if (key === undefined) continue;
      if (message.value === null) {
        engine.applyProfile(null, key);
        continue;
      }
      try {
        engine.applyProfile(await serdes.profile.decode(message.value), key);
      } catch (error) {
        if (!(error instanceof RecordDecodeError)) throw error;
        deadLetters.push({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key,
          reason: error.message,
          error_code: error.code,
          value: encodeDeadLetterValue(message.value),
          at: runtime.now(),
        });
      }
    }
    metrics.recordsConsumed.inc({ topic: batch.topic }, batch.messages.length);
    if (deadLetters.length > 0) {
      for (const letter of deadLetters) metrics.dlqRecords.inc({ reason: letter.error_code });
      await send(
        topics.deadLetters,
        await Promise.all(
          deadLetters.map(async (letter) => ({ key: letter.key, value: await serdes.deadLetter.encode(letter) })),
        ),
      );
    }
    const target = loadTarget.get(batch.partition);
    if (target !== undefined && BigInt(batch.lastOffset()) + 1n >= target) loadTarget.delete(batch.partition);
    if (!profilesLoaded && loadTarget.size === 0) {
      profilesLoaded = true;
      logger.info({ members: engine.memberCount }, 'profiles table loaded');
    }
  };
  const profilesHealth = trackConsumerHealth(profiles, 'flusher-profiles', {
    sessionTimeoutMs: env.sessionTimeoutMs,
    registry: runtime.health,
  });
  await profiles.connect();
  await profiles.subscribe({ topic: topics.profiles, fromBeginning: true });
  await profiles.run({ eachBatch: onProfiles });

  // Counts lock changes: a flush runs with the registry as read within the current tenure, and stops sending when
  // the tenure ends (whoever held the lock in between may have sent).
  let tenure = 0;
  let registryTenure = -1;
  const lock = new LeaderLock({
    kafka: runtime.kafka,
    topic: topics.flusherLock,
    groupId: `${env.kafka.topicPrefix}flusher`,
    sessionTimeoutMs: env.sessionTimeoutMs,
    logger,
    now: runtime.now,
    onChange: (leader) => {
      metrics.flusherActive.set(leader ? 1 : 0);
      tenure++;
    },
  });
  // A replica whose lock member is down can never take over: liveness fails while it is (the lock starts it again
  // after a crash kafkajs leaves down; if that keeps failing, a pod restart is the next remedy). Readiness is not
  // the lock's business: a standby is ready.
  const lockHealth = trackConsumerHealth(lock.kafkaConsumer, 'flusher-lock', {
    sessionTimeoutMs: env.sessionTimeoutMs,
  });
  const unregisterLockLiveness = runtime.health.registerLiveness('flusher-lock', lockHealth.liveness);
  await lock.start();
  const unregister = runtime.health.registerReadiness('flusher-profiles-loaded', () =>
    profilesLoaded
      ? { ok: true, detail: `${String(engine.memberCount)} segment memberships` }
      : { ok: false, detail: 'loading the profiles table' },
  );

  /** The previous holder's last registry writes are on the topic: read it whole before the first flush of a tenure. */
  const restoreRegistry = async (): Promise<boolean> => {
    try {
      const records = await readTopicToEnd(runtime.kafka, topics.personas, 120_000);
      const entries: PersonaRegistryEntry[] = [];
      for (const record of records) {
        if (record.value !== null) entries.push(await serdes.registry.decode(record.value));
      }
      engine.restoreRegistry(entries);
      logger.info({ personas: entries.length }, 'persona registry restored');
      return true;
    } catch (error) {
      logger.error({ err: error }, 'persona registry could not be read; the next flush tries again');
      return false;
    }
  };

  // Flushes run one at a time, registry reads included (a read never overlaps a flush still writing its results),
  // and at most one waits behind the running one: a flush slower than the interval does not pile up runs.
  let flushing: Promise<unknown> = Promise.resolve();
  let waiting: Promise<FlushReport | undefined> | undefined;
  const flushNow = (): Promise<FlushReport | undefined> => {
    if (waiting !== undefined) return waiting;
    const run = flushing.then(() => {
      waiting = undefined;
      return flushOnce();
    });
    waiting = run;
    flushing = run.catch(() => undefined);
    return run;
  };
  const flushOnce = async (): Promise<FlushReport | undefined> => {
    const term = tenure;
    if (!lock.isLeader || !profilesLoaded) return undefined;
    if (registryTenure !== term) {
      if (!(await restoreRegistry())) return undefined;
      registryTenure = term;
      if (tenure !== term) return undefined;
    }
    const started = performance.now();
    let report: FlushReport;
    try {
      report = await engine.flush(runtime.now(), { mayContinue: () => tenure === term && lock.isLeader });
    } catch (error) {
      if (!(error instanceof FlushOutputError)) {
        metrics.flushRuns.inc({ result: 'error' });
        logger.error({ err: error }, 'flush failed; the next flush retries');
        return undefined;
      }
      logger.error({ err: error }, 'flush results could not be written; the next flush writes them first');
      report = error.report;
    }
    recordReport(report);
    logger.info(
      {
        result: report.result,
        decisions: report.decisions,
        carriedOver: report.carriedOver.length,
        lockLost: report.lockLost,
        dryRun: report.dryRun,
        seconds: (performance.now() - started) / 1_000,
      },
      'flush finished',
    );
    options.onReport?.(report);
    return report;
  };
  const recordReport = (report: FlushReport) => {
    metrics.flushRuns.inc({ result: report.result });
    for (const decision of ['created', 'updated', 'unchanged', 'failed'] as const) {
      if (report.decisions[decision] > 0) metrics.flushDecisions.inc({ decision }, report.decisions[decision]);
    }
    for (const request of report.requests) {
      metrics.maveraRequests.inc({ endpoint: request.endpoint, status: request.status }, request.count);
    }
    for (const [endpoint, retries] of Object.entries(report.retries)) {
      if (retries > 0) metrics.maveraRetries.inc({ endpoint }, retries);
    }
    if (report.rateLimited > 0) metrics.maveraRateLimited.inc(report.rateLimited);
    if (report.creditsSpent > 0) metrics.maveraCreditsSpent.inc(report.creditsSpent);
  };
  const timer = setInterval(() => {
    void flushNow();
  }, env.flushIntervalMs);
  timer.unref();
  logger.info(
    { intervalMs: env.flushIntervalMs, dryRun: engine.dryRun, profiles: topics.profiles },
    'flusher started (standby until it holds the lock)',
  );

  return {
    engine,
    get active() {
      return lock.isLeader;
    },
    flushNow,
    stop: async () => {
      clearInterval(timer);
      await flushNow();
      await profiles.disconnect();
      profilesHealth.stop();
      unregister();
      await lock.stop();
      lockHealth.stop();
      unregisterLockLiveness();
      await producer.disconnect();
    },
  };
}

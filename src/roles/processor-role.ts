import { trackConsumerHealth } from '../adapters/health/consumer-health.js';
import { createEntityStateCodec } from '../domain/state/index.js';
import { Processor, type ProcessorObserver } from '../processor/processor.js';
import { StateStore } from '../processor/state-store.js';
import type { Runtime } from './runtime.js';

export interface RunningRole {
  /** Drains: stop fetching, finish and persist the batch in hand, commit, leave the group. */
  stop(): Promise<void>;
}

export interface ProcessorRole extends RunningRole {
  readonly processor: Processor;
}

const STATE_GAUGE_INTERVAL_MS = 60_000;

/** The processor role: the Processor, its local store, health checks and metrics. */
export async function startProcessorRole(
  runtime: Runtime,
  options: { readonly fromBeginning?: boolean; readonly observer?: ProcessorObserver } = {},
): Promise<ProcessorRole> {
  const { metrics, env, topics, processorGroup: group } = runtime;
  const store = new StateStore(runtime.stateDir, {
    onWiped: (reason) => {
      runtime.logger.warn({ stateDir: runtime.stateDir, reason }, 'local state wiped: restoring it from the changelog');
    },
  });
  const observer: ProcessorObserver = {
    batchProcessed: (report) => {
      metrics.recordsConsumed.inc({ topic: report.topic }, report.records);
      metrics.recordsProduced.inc({ topic: topics.changelog }, report.entities);
      if (report.profiles > 0) metrics.recordsProduced.inc({ topic: topics.profiles }, report.profiles);
      for (const kind of ['customer', 'user'] as const) {
        if (report.profileKinds[kind] > 0) metrics.profilesChanged.inc({ kind }, report.profileKinds[kind]);
      }
      metrics.processingDuration.observe({ role: 'processor' }, report.seconds);
      metrics.consumerGroupLag.set({ group, topic: report.topic, partition: report.partition }, report.lag);
      metrics.consumerGroupLagSeconds.set(
        { group, topic: report.topic, partition: report.partition },
        report.lag === 0 || !Number.isFinite(report.watermark)
          ? 0
          : Math.max(0, (runtime.now() - report.watermark) / 1_000),
      );
      if (Number.isFinite(report.watermark)) {
        metrics.watermark.set({ partition: report.partition }, report.watermark / 1_000);
      }
      for (const letter of report.deadLetters) metrics.dlqRecords.inc({ reason: letter.error_code });
      if (report.deadLetters.length > 0) {
        metrics.recordsProduced.inc({ topic: topics.deadLetters }, report.deadLetters.length);
      }
      options.observer?.batchProcessed?.(report);
    },
    restored: (report) => {
      metrics.restoreDuration.observe(report.durationMs / 1_000);
      metrics.restoredRecords.inc(report.records);
      options.observer?.restored?.(report);
    },
    assigned: (partitions) => {
      metrics.stateEntries.reset();
      metrics.stateBytes.reset();
      options.observer?.assigned?.(partitions);
    },
  };
  const processor = new Processor({
    kafka: runtime.kafka,
    topics,
    groupId: group,
    pipeline: runtime.pipeline,
    codec: createEntityStateCodec(runtime.pipeline),
    store,
    serdes: runtime.serdes,
    logger: runtime.logger.child({ role: 'processor' }),
    now: runtime.now,
    refreshIntervalMs: env.processor.refreshIntervalMs,
    clockTickMs: env.processor.clockTickMs,
    maxEventTimeSkewMs: env.maxEventTimeSkewMs,
    sessionTimeoutMs: env.sessionTimeoutMs,
    observer,
    idempotent: env.kafka.idempotent,
  });
  const consumerHealth = trackConsumerHealth(processor.kafkaConsumer, 'processor-consumer', {
    sessionTimeoutMs: env.sessionTimeoutMs,
    registry: runtime.health,
  });
  const unregister = runtime.health.registerReadiness('processor-state', () =>
    processor.ready
      ? { ok: true, detail: `partitions ${processor.assignedPartitions.join(',') || 'none'} restored` }
      : { ok: false, detail: 'joining the group or restoring state from the changelog' },
  );
  await processor.start(options.fromBeginning ?? true);
  runtime.logger.info(
    { group, stateDir: runtime.stateDir, changelog: topics.changelog, serde: runtime.serdes.event.format },
    'processor started',
  );
  const gauges = setInterval(() => {
    for (const partition of processor.assignedPartitions) {
      let entries = 0;
      let bytes = 0;
      for (const [, entity] of store.entries(partition)) {
        entries += 1;
        bytes += entity.state.byteLength + 4;
      }
      metrics.stateEntries.set({ partition }, entries);
      metrics.stateBytes.set({ partition }, bytes);
    }
  }, STATE_GAUGE_INTERVAL_MS);
  gauges.unref();
  return {
    processor,
    stop: async () => {
      clearInterval(gauges);
      await processor.stop();
      consumerHealth.stop();
      unregister();
      await store.close();
    },
  };
}

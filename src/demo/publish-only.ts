import { loadEnv } from '../config/env.js';
import { createLogger } from '../log/logger.js';
import { createRuntime } from '../roles/runtime.js';
import { closingEvents, closingInstant } from './closing-events.js';
import { verifyDemoTopics } from './external-cluster.js';
import { given, type DemoIo } from './demo-io.js';
import { demoTraffic, months, type DemoSizes } from './demo-sizes.js';
import { publishTraffic } from './publish-traffic.js';
import { generateTraffic } from './traffic-generator.js';

/** `demo --publish-only` needs a cluster to publish to. */
export class PublishOnlyNeedsBrokersError extends Error {
  constructor() {
    super(
      '--publish-only publishes to an existing cluster: set KAFKA_BROKERS (and KAFKA_TOPIC_PREFIX if not the ' +
        'default); without them run `persona-stream demo`, which starts its own broker',
    );
    this.name = 'PublishOnlyNeedsBrokersError';
  }
}

/**
 * `persona-stream demo --publish-only`: the demo's generated traffic, plus its closing events (one per partition at
 * a common instant), published straight to the event topics of KAFKA_BROKERS as canonical events with the
 * runtime's serde (Avro when SCHEMA_REGISTRY_URL is set). Nothing else runs: a deployed pipeline consumes them.
 * Records are deterministic, so publishing the same options again changes no state.
 */
export async function runPublishOnly(io: DemoIo, sizes: DemoSizes): Promise<number> {
  if (given(io.env, 'KAFKA_BROKERS') === undefined) throw new PublishOnlyNeedsBrokersError();
  const startedAt = io.now();
  const env = loadEnv(io.env);
  // The event publisher keeps kafkajs' default partitioner on purpose; its notice is noise here.
  process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
  const logger = createLogger({ level: env.logLevel, name: 'demo', destination: process.stderr });
  const runtime = await createRuntime(env, logger, { now: io.now });
  const { stripeEvents, segmentEvents } = runtime.topics;
  const partitions = await verifyDemoTopics(runtime.kafka, env.kafka.topicPrefix, runtime.topics, [
    stripeEvents,
    segmentEvents,
  ]);
  const traffic = generateTraffic(demoTraffic(sizes));
  const closingAt = closingInstant(traffic, env.processor.refreshIntervalMs);
  const events = [...traffic, ...closingEvents(closingAt, partitions)];
  io.stderr(
    `demo: publishing ${String(events.length)} generated events (${String(sizes.customers)} customers, ` +
      `${String(sizes.users)} users, ${months(sizes.months)}, seed ${String(sizes.seed)}) to ` +
      `${stripeEvents} and ${segmentEvents}\n`,
  );
  let reported = 0;
  const counts = await publishTraffic(runtime, events, (published) => {
    if (published - reported >= 10_000) {
      reported = published;
      io.stderr(`demo: ${String(published)} published\n`);
    }
  });
  io.stdout(
    `published ${String(counts.stripe)} Stripe events to ${stripeEvents} and ${String(counts.segment)} Segment ` +
      `messages to ${segmentEvents} (${String(partitions)} closing events at ${new Date(closingAt).toISOString()} ` +
      `among the Stripe events; ${String(counts.ignored)} generated events not used by the pipeline) in ` +
      `${((io.now() - startedAt) / 1_000).toFixed(1)} s\n`,
  );
  return 0;
}

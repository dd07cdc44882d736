import { performance } from 'node:perf_hooks';
import type { Kafka } from 'kafkajs';
import { canonicalEventSchema } from '../../src/records/canonical-event.js';

/** How long reading `records` records took: from the first call (connect, join) and from the first batch. */
export interface ReadTiming {
  readonly records: number;
  /** Connect, subscribe, join the group, then read to the last record. */
  readonly wallSeconds: number;
  /** From the first fetched batch to the last record: the rate once the group is running. */
  readonly steadySeconds: number;
}

/** The processor's consumer settings (src/processor/processor.ts), so both sides fetch alike. */
export const PROCESSOR_FETCH = { maxWaitTimeInMs: 100, partitionsConsumedConcurrently: 4 } as const;

/**
 * The baseline: a kafkajs consumer group that only reads the records and decodes them as the processor's serde does
 * (JSON.parse + the zod canonicalEventSchema), with the processor's fetch settings. Nothing is committed.
 */
export async function bareRead(
  kafka: Kafka,
  topics: readonly string[],
  expected: number,
  options: { readonly groupId: string; readonly sessionTimeoutMs: number; readonly timeoutMs: number },
): Promise<ReadTiming> {
  const started = performance.now();
  const consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: PROCESSOR_FETCH.maxWaitTimeInMs,
    sessionTimeout: options.sessionTimeoutMs,
  });
  let firstBatchAt = 0;
  let read = 0;
  let invalid = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    const finishedAt = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`bare read: ${String(read)} of ${String(expected)} records after ${String(options.timeoutMs)} ms`),
        );
      }, options.timeoutMs);
      consumer
        .run({
          autoCommit: false,
          partitionsConsumedConcurrently: PROCESSOR_FETCH.partitionsConsumedConcurrently,
          eachBatch: ({ batch }) => {
            if (firstBatchAt === 0) firstBatchAt = performance.now();
            for (const message of batch.messages) {
              if (
                message.value === null ||
                !canonicalEventSchema.safeParse(JSON.parse(message.value.toString('utf8'))).success
              )
                invalid += 1;
              read += 1;
            }
            if (read >= expected) {
              clearTimeout(timer);
              resolve(performance.now());
            }
            return Promise.resolve();
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
    if (invalid > 0) throw new Error(`bare read: ${String(invalid)} records did not decode`);
    return {
      records: read,
      wallSeconds: (finishedAt - started) / 1_000,
      steadySeconds: (finishedAt - firstBatchAt) / 1_000,
    };
  } finally {
    await consumer.disconnect();
  }
}

import type { Admin } from 'kafkajs';

/**
 * Waits until a broker that has just created `topics` serves them, and has a group coordinator. CreateTopics (even
 * waiting for leaders) returns once the metadata names a leader, which a KRaft broker publishes a moment before its
 * partitions take requests; clients started in that moment get NOT_LEADER_OR_FOLLOWER or COORDINATOR_NOT_AVAILABLE,
 * retried, but logged as errors by kafkajs. `admin` should log nothing: its own retries here are expected.
 */
export async function waitForTopicsReady(
  admin: Admin,
  topics: readonly string[],
  options: { readonly groupId: string; readonly timeoutMs?: number },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const pending = new Set(topics);
  let coordinator = false;
  let lastError: unknown;
  while (pending.size > 0 || !coordinator) {
    try {
      for (const topic of pending) {
        await admin.fetchTopicOffsets(topic);
        pending.delete(topic);
      }
      // Finding a group's coordinator creates __consumer_offsets on a fresh broker.
      await admin.describeGroups([options.groupId]);
      coordinator = true;
    } catch (error) {
      lastError = error;
      if (Date.now() > deadline) {
        throw new Error(
          `the broker did not serve ${pending.size > 0 ? [...pending].join(', ') : 'a group coordinator'} in time`,
          { cause: lastError },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

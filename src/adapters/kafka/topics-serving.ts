import type { Admin } from 'kafkajs';

/**
 * Waits until every one of `topics`, just created, answers a ListOffsets from its leader. CreateTopics returns (and
 * the metadata names a leader) a moment before a KRaft broker's partitions take requests; a client started then
 * gets UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER. Rejects with the last error after `timeoutMs`.
 */
export async function waitForTopicsServing(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(topics);
  let lastError: unknown;
  while (pending.size > 0) {
    try {
      for (const topic of pending) {
        await admin.fetchTopicOffsets(topic);
        pending.delete(topic);
      }
    } catch (error) {
      lastError = error;
      if (Date.now() > deadline) {
        throw new Error(`the broker did not serve ${[...pending].join(', ')} within ${String(timeoutMs)} ms`, {
          cause: lastError,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

import type { Admin } from 'kafkajs';
import { waitForTopicsServing } from '../adapters/kafka/topics-serving.js';

/**
 * Waits until a broker that has just created `topics` serves them, and has a group coordinator: clients started
 * before get NOT_LEADER_OR_FOLLOWER or COORDINATOR_NOT_AVAILABLE, retried, but logged as errors by kafkajs. `admin`
 * should log nothing: its own retries here are expected.
 */
export async function waitForTopicsReady(
  admin: Admin,
  topics: readonly string[],
  options: { readonly groupId: string; readonly timeoutMs?: number },
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  await waitForTopicsServing(admin, topics, timeoutMs);
  for (;;) {
    try {
      // Finding a group's coordinator creates __consumer_offsets on a fresh broker.
      await admin.describeGroups([options.groupId]);
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error('the broker did not serve a group coordinator in time', { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

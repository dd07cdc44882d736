import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

export interface ClusterDescription {
  readonly brokers: number;
  readonly controllerId: number | null;
}

/**
 * Waits until a real client's metadata call to the cluster succeeds (a broker that listens is not yet one that
 * answers) and a group coordinator answers (a fresh cluster creates its offsets topic on the first group request and
 * says NOT_COORDINATOR meanwhile), retrying until `timeoutMs` has passed; rejects with the last error then.
 */
export async function waitForCluster(
  bootstrapServers: readonly string[],
  options: { readonly timeoutMs: number; readonly isAbandoned?: () => boolean },
): Promise<ClusterDescription> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !(options.isAbandoned?.() ?? false)) {
    const admin = new Kafka({
      brokers: [...bootstrapServers],
      clientId: 'persona-stream-probe',
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) {
        await admin.fetchOffsets({ groupId: 'persona-stream-probe', topics: [] });
        return { brokers: cluster.brokers.length, controllerId: cluster.controller };
      }
    } catch (error) {
      lastError = error;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `the cluster at ${bootstrapServers.join(',')} did not answer a metadata request in ${String(options.timeoutMs)} ms`,
    { cause: lastError },
  );
}

/** The Apache Kafka release the local broker runs unless KAFKA_VERSION names another (from Maven Central). */
export const DEFAULT_KAFKA_VERSION = '4.1.2';

/** The Kafka version to run: KAFKA_VERSION when set (e.g. 3.9.1 or 4.4.0), else the pinned default. */
export function kafkaVersion(env: NodeJS.ProcessEnv = process.env): string {
  const requested = env['KAFKA_VERSION']?.trim();
  if (requested === undefined || requested === '') return DEFAULT_KAFKA_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(requested)) {
    throw new Error(`KAFKA_VERSION must be a release such as ${DEFAULT_KAFKA_VERSION}, got an unreadable value`);
  }
  return requested;
}

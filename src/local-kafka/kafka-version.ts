/** The Apache Kafka release the local broker runs unless KAFKA_VERSION names another (from Maven Central). */
export const DEFAULT_KAFKA_VERSION = '4.1.2';

/** The Kafka version to run: KAFKA_VERSION when set (e.g. 3.9.1 or 4.4.0), else the pinned default. */
export function kafkaVersion(env: NodeJS.ProcessEnv = process.env): string {
  return releaseFromEnv(env, 'KAFKA_VERSION', DEFAULT_KAFKA_VERSION);
}

/**
 * A release number (major.minor.patch) from `variable`, else `fallback`; anything else is refused, since the value
 * ends up in a Maven coordinate and a cache path.
 */
export function releaseFromEnv(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const requested = env[variable]?.trim();
  if (requested === undefined || requested === '') return fallback;
  if (!/^\d+\.\d+\.\d+$/.test(requested)) {
    throw new Error(`${variable} must be a release such as ${fallback}, got an unreadable value`);
  }
  return requested;
}

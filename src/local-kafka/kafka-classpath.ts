import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { findPackageRoot } from '../package-root.js';
import { localCacheDirectory } from './cache-directory.js';
import { findJava } from './java-runtime.js';
import { fillOnce, LocalInfrastructureUnavailableError, runCommand, runMaven } from './maven.js';

export interface KafkaClasspath {
  readonly version: string;
  /** The folder of the broker's jars (use as `<libs>/*`). */
  readonly libs: string;
  /** The folder holding the compiled LocalKafka launcher class. */
  readonly launcher: string;
  /** Whether this call resolved it (false: taken from the cache). */
  readonly resolvedNow: boolean;
}

/**
 * The local broker's classpath for a Kafka version: resolved once from Maven Central into the cache with the pom kept
 * beside this file, then reused; plus the LocalKafka launcher, compiled once per source version.
 */
export async function resolveKafkaClasspath(
  version: string,
  onProgress: (line: string) => void = () => {},
): Promise<KafkaClasspath> {
  const sources = join(findPackageRoot(), 'src', 'local-kafka');
  const cache = join(localCacheDirectory(), 'kafka', version);
  const libs = join(cache, 'libs');
  const resolvedNow = await fillOnce(libs, async (partial) => {
    onProgress(`resolving Apache Kafka ${version} from Maven Central into ${libs} (once; later runs reuse it)`);
    await runMaven(
      [
        '-f',
        join(sources, 'kafka-classpath.pom.xml'),
        'dependency:copy-dependencies',
        `-Dkafka.version=${version}`,
        '-DincludeScope=runtime',
        `-DoutputDirectory=${partial}`,
      ],
      sources,
    );
  });
  const launcherSource = join(sources, 'LocalKafka.java');
  const digest = createHash('sha256')
    .update(await readFile(launcherSource))
    .digest('hex')
    .slice(0, 12);
  const launcher = join(localCacheDirectory(), 'launcher', digest);
  await fillOnce(launcher, async (partial) => {
    const java = await findJava();
    // javac beside the java that will run it ('javac' on the PATH when java came from the PATH).
    const result = await runCommand(join(dirname(java.command), 'javac'), ['-d', partial, launcherSource]);
    if (result.code !== 0) {
      throw new LocalInfrastructureUnavailableError(
        `cannot compile the local Kafka launcher (javac: a JDK, not only a JRE, is needed): ${result.output.trim()}`,
      );
    }
  });
  return { version, libs, launcher, resolvedNow };
}

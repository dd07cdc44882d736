import { join } from 'node:path';
import { LocalInfrastructureUnavailableError, runCommand } from './maven.js';

export interface JavaRuntime {
  /** The `java` executable to run. */
  readonly command: string;
  /** The feature release, e.g. 17 or 25. */
  readonly version: number;
}

const MINIMUM_JAVA = 17;

let found: Promise<JavaRuntime> | undefined;

/**
 * The JVM that runs the local Kafka broker and registry: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` on
 * the PATH. Refused (LocalInfrastructureUnavailableError) when missing or older than Java 17, which Kafka 4 needs.
 */
export function findJava(env: NodeJS.ProcessEnv = process.env): Promise<JavaRuntime> {
  if (env !== process.env) return probe(env);
  found ??= probe(env);
  return found;
}

async function probe(env: NodeJS.ProcessEnv): Promise<JavaRuntime> {
  const home = env['JAVA_HOME']?.trim();
  const command = home ? join(home, 'bin', 'java') : 'java';
  let output: string;
  try {
    const result = await runCommand(command, ['-version'], { env });
    if (result.code !== 0) throw new Error(result.output.trim());
    output = result.output;
  } catch (error) {
    throw new LocalInfrastructureUnavailableError(
      `no Java runtime (${command}): install a JDK ${String(MINIMUM_JAVA)}+ (apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME`,
      { cause: error },
    );
  }
  const version = parseJavaVersion(output);
  if (version === undefined || version < MINIMUM_JAVA) {
    throw new LocalInfrastructureUnavailableError(
      `${command} is Java ${version === undefined ? 'of an unknown version' : String(version)}; the local Kafka needs ${String(MINIMUM_JAVA)}+`,
    );
  }
  return { command, version };
}

/** The feature release from `java -version` output: `"17.0.15"` → 17, `"1.8.0_402"` → 8. */
export function parseJavaVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (match?.[1] === undefined) return undefined;
  const major = Number(match[1]);
  return major === 1 && match[2] !== undefined ? Number(match[2]) : major;
}

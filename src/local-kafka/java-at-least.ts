import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { findJava, type JavaRuntime } from './java-runtime.js';
import { LocalInfrastructureUnavailableError } from './maven.js';

/** Where Linux packages (Debian, Ubuntu, Fedora, Temurin's apt repository) put their JDKs and JREs. */
const JVM_FOLDERS = ['/usr/lib/jvm'];

/**
 * A JVM of at least `minimum` for `purpose`: the usual one (JAVA_HOME, else `java` on the PATH) when new enough, else
 * the newest installed under /usr/lib/jvm, because a machine often has the distribution's default Java 17 on the PATH
 * beside a newer JDK that nothing selects.
 */
export async function findJavaAtLeast(minimum: number, purpose: string): Promise<JavaRuntime> {
  const usual: JavaRuntime | Error = await findJava().catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error)),
  );
  if (!(usual instanceof Error) && usual.version >= minimum) return usual;
  let best: JavaRuntime | undefined;
  for (const home of await installedJavaHomes()) {
    const candidate = await findJava({ ...process.env, JAVA_HOME: home }).catch(() => undefined);
    if (candidate !== undefined && candidate.version >= minimum && candidate.version > (best?.version ?? 0)) {
      best = candidate;
    }
  }
  if (best !== undefined) return best;
  const found = usual instanceof Error ? 'no Java was found' : `${usual.command} is Java ${String(usual.version)}`;
  throw new LocalInfrastructureUnavailableError(
    `${purpose} needs Java ${String(minimum)}+, but ${found} and ${JVM_FOLDERS.join(', ')} has none newer: install one ` +
      `(apt-get install -y openjdk-${String(minimum)}-jre-headless) or set JAVA_HOME to it`,
    usual instanceof Error ? { cause: usual } : undefined,
  );
}

async function installedJavaHomes(): Promise<string[]> {
  const homes = new Set<string>();
  for (const folder of JVM_FOLDERS) {
    const entries = await readdir(folder).catch(() => []);
    // Distributions add aliases (java-17-openjdk-amd64 → openjdk-17): probe each real folder once.
    for (const entry of entries.sort()) homes.add(await realpath(join(folder, entry)).catch(() => join(folder, entry)));
  }
  return [...homes];
}

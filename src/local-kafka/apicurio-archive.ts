import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { localCacheDirectory } from './cache-directory.js';
import { releaseFromEnv } from './kafka-version.js';
import { fillOnce, LocalInfrastructureUnavailableError, pathExists, runCommand, runMaven } from './maven.js';

/** The Apicurio Registry release the local registry runs unless APICURIO_VERSION names another (3.3.2 also works). */
export const DEFAULT_APICURIO_VERSION = '3.3.3';

/** The Apicurio Registry version to run: APICURIO_VERSION when set, else the pinned default. */
export function apicurioVersion(env: NodeJS.ProcessEnv = process.env): string {
  return releaseFromEnv(env, 'APICURIO_VERSION', DEFAULT_APICURIO_VERSION);
}

/** 3.3 is compiled for Java 21 (class files of version 65); 3.0 still ran on 17. */
export function apicurioMinimumJava(version: string): number {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 3 || (major === 3 && minor >= 3) ? 21 : 17;
}

export interface ApicurioArchive {
  readonly version: string;
  /** The unpacked Quarkus application: run `java -jar quarkus-run.jar` in it. */
  readonly directory: string;
  /** Whether this call resolved it (false: taken from the cache). */
  readonly resolvedNow: boolean;
}

/**
 * The runnable registry, `io.apicurio:apicurio-registry-app:<version>:tar.gz:all` from Maven Central (about 160 MB, a
 * Quarkus fast-jar tree), copied and unpacked once into `<cache>/apicurio-registry/<version>/`, then reused.
 */
export async function resolveApicurioArchive(
  version: string,
  onProgress: (line: string) => void = () => {},
): Promise<ApicurioArchive> {
  const directory = join(localCacheDirectory(), 'apicurio-registry', version);
  const resolvedNow = await fillOnce(directory, async (partial) => {
    onProgress(
      `resolving Apicurio Registry ${version} from Maven Central into ${directory} (once; later runs reuse it)`,
    );
    await runMaven(
      [
        // Pinned, so the copy does not depend on which plugin version this Maven defaults to (2.8 for 3.8).
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
        `-Dartifact=io.apicurio:apicurio-registry-app:${version}:tar.gz:all`,
        `-DoutputDirectory=${partial}`,
      ],
      partial,
    );
    const archive = join(partial, `apicurio-registry-app-${version}-all.tar.gz`);
    // tar (GNU or bsdtar) is on every Linux and macOS; Maven keeps its own copy of the archive in ~/.m2.
    const unpacked = await runCommand('tar', ['--no-same-owner', '-xzf', archive, '-C', partial]);
    if (unpacked.code !== 0) {
      throw new LocalInfrastructureUnavailableError(`cannot unpack ${archive}: ${unpacked.output.trim()}`);
    }
    await rm(archive);
    if (!(await pathExists(join(partial, 'quarkus-run.jar')))) {
      throw new LocalInfrastructureUnavailableError(`${archive} holds no quarkus-run.jar: not a runnable registry`);
    }
  });
  return { version, directory, resolvedNow };
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { apicurioMinimumJava, apicurioVersion, resolveApicurioArchive } from './apicurio-archive.js';
import { findFreePort } from './free-port.js';
import { findJavaAtLeast } from './java-at-least.js';
import { killOnExit } from './kill-on-exit.js';
import { LocalInfrastructureUnavailableError } from './maven.js';
import { OutputTail } from './output-tail.js';

/** A real Apicurio Registry (in-memory storage) on loopback, serving the Confluent Schema Registry API, for tests. */
export interface ApicurioRegistry {
  /** The Confluent-compatible base URL, http://127.0.0.1:PORT/apis/ccompat/v7: a SchemaRegistry client's `host`. */
  readonly url: string;
  readonly version: string;
  /** The registry JVM's process id while it runs. */
  readonly pid: number | undefined;
  /** From spawning the JVM to the API's first answer. */
  readonly startupMs: number;
  /** Kills the JVM (its schemas live in memory: nothing to save) and waits for it to be gone; idempotent. */
  stop(): Promise<void>;
}

export interface ApicurioRegistryOptions {
  /** The Apicurio release (default: APICURIO_VERSION or the pinned one). */
  readonly version?: string;
  readonly heapMegabytes?: number;
  /** How long the API may take to answer once the JVM is started. */
  readonly startTimeoutMs?: number;
  /** Told each slow step (resolving the archive the first time). */
  readonly onProgress?: (line: string) => void;
}

/**
 * `sh` forks a watchdog that holds our stdin pipe on fd 3 (a background job's own stdin is /dev/null), then becomes
 * the JVM (`exec`: the child's pid is the JVM's). When the pipe closes because this process exited, crashed or was
 * SIGKILLed, `cat` returns and the watchdog SIGKILLs the JVM ($$ is the pid that became it): no orphan registries.
 */
const EXEC_WITH_PARENT_WATCHDOG =
  'exec 3<&0; (cat <&3 >/dev/null 2>&1; kill -9 $$ 2>/dev/null) >/dev/null 2>&1 & exec "$@" </dev/null 3<&-';

export async function startApicurioRegistry(options: ApicurioRegistryOptions = {}): Promise<ApicurioRegistry> {
  const version = options.version ?? apicurioVersion();
  const java = await findJavaAtLeast(apicurioMinimumJava(version), `Apicurio Registry ${version}`);
  const archive = await resolveApicurioArchive(version, options.onProgress);
  const port = await findFreePort();
  const url = `http://127.0.0.1:${String(port)}/apis/ccompat/v7`;
  const jvmArguments = [
    `-Xmx${String(options.heapMegabytes ?? 384)}m`,
    // A short-lived test server on a small shared machine: one GC thread and the quick compiler only.
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Dquarkus.http.host=127.0.0.1',
    `-Dquarkus.http.port=${String(port)}`,
    // The management interface (health, metrics) is built in and would take 0.0.0.0:9000: any free loopback port.
    '-Dquarkus.management.host=127.0.0.1',
    '-Dquarkus.management.port=0',
    '-Dquarkus.http.access-log.enabled=false',
    '-Dquarkus.otel.sdk.disabled=true',
    // In-memory H2 (Apicurio 3's default), stated so an APICURIO_* variable in the environment cannot change it.
    '-Dapicurio.storage.kind=sql',
    '-Dapicurio.storage.sql.kind=h2',
    '-jar',
    join(archive.directory, 'quarkus-run.jar'),
  ];
  const startedAt = Date.now();
  const child = spawn('sh', ['-c', EXEC_WITH_PARENT_WATCHDOG, 'apicurio-registry', java.command, ...jvmArguments], {
    cwd: archive.directory,
    env: registryEnvironment(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const forgetOnExit = killOnExit(child);
  const output = new OutputTail(60);
  let exitCode: number | string | null | undefined;
  const exited = new Promise<void>((resolve) => {
    const gone = (how: number | string | null) => {
      exitCode ??= how;
      forgetOnExit();
      child.stdin.destroy(); // lets the watchdog end
      resolve();
    };
    child.once('exit', (code, signal) => {
      gone(code ?? signal);
    });
    // Only when `sh` itself cannot be started: no 'exit' follows.
    child.once('error', (error) => {
      output.push(`cannot run sh: ${error.message}\n`);
      gone('spawn failed');
    });
  });
  child.stdout.on('data', (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
  });
  const stop = async (): Promise<void> => {
    if (exitCode === undefined) child.kill('SIGKILL');
    await exited;
  };
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const answered = await waitForApi(`${url}/subjects`, timeoutMs, () => exitCode !== undefined);
  if (!answered) {
    const why =
      exitCode === undefined ? `within ${String(timeoutMs / 1000)} s` : `(the JVM exited: ${String(exitCode)})`;
    await stop();
    throw new LocalInfrastructureUnavailableError(
      `Apicurio Registry ${version} (${java.command}) did not answer on ${url}/subjects ${why}; its output ended:\n` +
        (output.text() || '(nothing)'),
    );
  }
  return {
    url,
    version,
    get pid() {
      return exitCode === undefined ? child.pid : undefined;
    },
    startupMs: Date.now() - startedAt,
    stop,
  };
}

/** Polls until the API answers 200 (true), or the timeout passes or the JVM is gone (false). */
async function waitForApi(probeUrl: string, timeoutMs: number, isGone: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !isGone()) {
    try {
      const response = await fetch(probeUrl, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/** Our environment without Quarkus and Apicurio settings, so the registry runs with exactly the settings given here. */
function registryEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(QUARKUS|APICURIO)_/i.test(name)));
}

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findPackageRoot } from '../package-root.js';

/**
 * A real Kafka broker process on 127.0.0.1 for tests and the demo: librdkafka's mock cluster (see mock-broker.c),
 * compiled on first use with gcc against librdkafka-dev. It speaks the Kafka wire protocol, so kafkajs talks to it
 * as to any cluster; topics are created through the mock's own call because it does not implement CreateTopics.
 */
export interface LocalBroker {
  /** `host:port` of each broker. */
  readonly bootstrapServers: readonly string[];
  createTopic(name: string, partitions: number): Promise<void>;
  /** Takes broker `id` (1-based) down: connections to it fail until `setBrokerUp`. */
  setBrokerDown(id: number): Promise<void>;
  setBrokerUp(id: number): Promise<void>;
  /** Adds round-trip latency to broker `id`. */
  setRoundTripTime(id: number, milliseconds: number): Promise<void>;
  /** Answers the next `count` (1–1000) requests of Kafka API `apiKey`, to any broker from any client, with `errorCode`. */
  failRequests(apiKey: number, errorCode: number, count: number): Promise<void>;
  /** Stops the broker process; idempotent. */
  stop(): Promise<void>;
}

export interface LocalBrokerOptions {
  readonly brokers?: number;
  readonly topics?: readonly { readonly name: string; readonly partitions: number }[];
  /** How long to wait for the broker to come up. */
  readonly startTimeoutMs?: number;
}

const INSTALL_HINT = 'install them with: apt-get install -y gcc librdkafka-dev';

/** The local broker cannot be built or started on this machine; the message says what to install. */
export class LocalBrokerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalBrokerUnavailableError';
  }
}

/** A command sent to a running broker failed (the mock refused it, or the process is gone). */
export class LocalBrokerCommandError extends Error {
  constructor(
    readonly command: string,
    reason: string,
  ) {
    super(`local broker: ${command}: ${reason}`);
    this.name = 'LocalBrokerCommandError';
  }
}

export interface BuildOptions {
  /** The C compiler to run (default gcc). */
  readonly compiler?: string;
  /** Where builds are cached, one per source version (default: the OS temp dir). */
  readonly cacheDirectory?: string;
}

/** Compiles the mock broker if this machine has no build of the current source yet; returns the binary's path. */
export async function buildLocalBroker(options: BuildOptions = {}): Promise<string> {
  const source = join(findPackageRoot(), 'src', 'local-broker', 'mock-broker.c');
  const text = await readFile(source, 'utf8');
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const directory = options.cacheDirectory ?? join(tmpdir(), 'persona-stream');
  const binary = join(directory, `mock-broker-${digest}`);
  if (await exists(binary)) return binary;
  await mkdir(directory, { recursive: true });
  const partial = `${binary}.${process.pid}.tmp`;
  const compiler = options.compiler ?? 'gcc';
  const result = await run(compiler, ['-O2', '-o', partial, source, '-lrdkafka']);
  if (result.error !== undefined) {
    throw new LocalBrokerUnavailableError(
      `cannot build the local Kafka broker: ${compiler} is not available; ${INSTALL_HINT}`,
      {
        cause: result.error,
      },
    );
  }
  if (result.code !== 0) {
    const missingLibrary = /rdkafka|cannot find -lrdkafka/.test(result.stderr);
    throw new LocalBrokerUnavailableError(
      missingLibrary
        ? `cannot build the local Kafka broker: librdkafka-dev is not installed; ${INSTALL_HINT}`
        : `cannot build the local Kafka broker (gcc exited ${String(result.code)}): ${result.stderr.trim()}`,
    );
  }
  // Renamed into place so that concurrent builds (parallel test files) never run a half-written binary.
  await rename(partial, binary);
  return binary;
}

export async function startLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const binary = await buildLocalBroker();
  const args = ['--brokers', String(options.brokers ?? 1)];
  for (const topic of options.topics ?? []) args.push('--topic', `${topic.name}:${String(topic.partitions)}`);
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise<LocalBroker>((resolve, reject) => {
    let stderr = '';
    let settled = false;
    const timer = setTimeout(() => {
      fail(new LocalBrokerUnavailableError('the local Kafka broker did not start in time'));
    }, options.startTimeoutMs ?? 10_000);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', (error) => {
      fail(new LocalBrokerUnavailableError(`cannot start the local Kafka broker: ${error.message}`, { cause: error }));
    });
    child.once('exit', (code) => {
      fail(new LocalBrokerUnavailableError(`the local Kafka broker exited (${String(code)}): ${stderr.trim()}`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (first) => {
      const match = /^BOOTSTRAP (\S+)$/.exec(first);
      if (match?.[1] === undefined) {
        fail(new LocalBrokerUnavailableError(`unexpected output from the local Kafka broker: ${first}`));
        return;
      }
      settled = true;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(controller(child, lines, match[1].split(',')));
    });
  });
}

function controller(
  child: ChildProcessWithoutNullStreams,
  lines: ReturnType<typeof createInterface>,
  bootstrapServers: readonly string[],
): LocalBroker {
  const pending: { command: string; resolve: () => void; reject: (error: Error) => void }[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      for (const waiting of pending.splice(0))
        waiting.reject(new LocalBrokerCommandError(waiting.command, 'the broker exited'));
      resolve();
    });
  });
  lines.on('line', (line) => {
    const waiting = pending.shift();
    if (waiting === undefined) return;
    if (line.startsWith('OK ')) waiting.resolve();
    else waiting.reject(new LocalBrokerCommandError(waiting.command, line.replace(/^ERR /, '')));
  });
  const send = (command: string) =>
    new Promise<void>((resolve, reject) => {
      if (exited) {
        reject(new LocalBrokerCommandError(command, 'the broker is not running'));
        return;
      }
      pending.push({ command, resolve, reject });
      child.stdin.write(`${command}\n`);
    });
  return {
    bootstrapServers,
    createTopic: (name, partitions) => {
      if (!/^[A-Za-z0-9._-]{1,249}$/.test(name)) {
        return Promise.reject(new LocalBrokerCommandError(`topic ${name}`, 'not a valid Kafka topic name'));
      }
      return send(`topic ${name} ${String(partitions)}`);
    },
    setBrokerDown: (id) => send(`down ${String(id)}`),
    setBrokerUp: (id) => send(`up ${String(id)}`),
    setRoundTripTime: (id, milliseconds) => send(`rtt ${String(id)} ${String(milliseconds)}`),
    failRequests: (apiKey, errorCode, count) => {
      if (![apiKey, errorCode, count].every(Number.isInteger) || count < 1 || count > 1000) {
        return Promise.reject(new LocalBrokerCommandError(`error ${String(apiKey)}`, 'needs integers, count 1–1000'));
      }
      return send(`error ${String(apiKey)} ${String(errorCode)} ${String(count)}`);
    },
    stop: async () => {
      if (!exited) {
        child.stdin.end('quit\n');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exit;
        clearTimeout(killer);
      }
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function run(
  command: string,
  args: readonly string[],
): Promise<{ code: number | null; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', (error) => {
      resolve({ code: null, stderr, error });
    });
    child.once('close', (code) => {
      resolve({ code, stderr });
    });
  });
}

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForCluster } from '../adapters/kafka/cluster-probe.js';
import { BROKER_LOG4J2_PROPERTIES, brokerProperties, type BrokerPlacement } from './broker-properties.js';
import { findFreePort } from './free-port.js';
import { findJava, type JavaRuntime } from './java-runtime.js';
import { resolveKafkaClasspath, type KafkaClasspath } from './kafka-classpath.js';
import { kafkaVersion } from './kafka-version.js';
import { LocalInfrastructureUnavailableError, runCommand } from './maven.js';
import { OutputTail } from './output-tail.js';
import { killOnExit } from './kill-on-exit.js';

/** A real Apache Kafka (KRaft, one combined broker + controller) on loopback, for tests, the bench and the demo. */
export interface ApacheKafka {
  readonly kind: 'apache-kafka';
  readonly version: string;
  readonly bootstrapServers: readonly string[];
  /** The broker's data folder; kept across `kill` and `restart`, removed by `stop`. */
  readonly dataDirectory: string;
  /** The broker JVM's process id while it runs. */
  readonly pid: number | undefined;
  /** Freezes the broker process (SIGSTOP): connections stay open and nothing answers. */
  pause(): void;
  /** Thaws a paused broker (SIGCONT). */
  resume(): void;
  /** Kills the broker process (SIGKILL) and waits for it to be gone; its data stays for `restart`. */
  kill(): Promise<void>;
  /** Starts the broker again on the same data folder and ports, and waits until it answers. */
  restart(): Promise<void>;
  /** Shuts the broker down (SIGTERM, SIGKILL after a grace period) and removes its data; idempotent. */
  stop(): Promise<void>;
}

export interface ApacheKafkaOptions {
  /** The Kafka release (default: KAFKA_VERSION or the pinned one). */
  readonly version?: string;
  readonly heapMegabytes?: number;
  /** How long the broker may take to answer a metadata request once started. */
  readonly startTimeoutMs?: number;
  /** Broker properties that win over the single-node defaults. */
  readonly properties?: Readonly<Record<string, string>>;
  /** Told each slow step (resolving the classpath the first time). */
  readonly onProgress?: (line: string) => void;
}

const STOP_GRACE_MS = 10_000;

export async function startApacheKafka(options: ApacheKafkaOptions = {}): Promise<ApacheKafka> {
  const version = options.version ?? kafkaVersion();
  const java = await findJava();
  const classpath = await resolveKafkaClasspath(version, options.onProgress);
  const dataDirectory = await mkdtemp(join(tmpdir(), 'persona-stream-kafka-'));
  try {
    const placement: BrokerPlacement = {
      brokerPort: await findFreePort(),
      controllerPort: await findFreePort(),
      dataDirectory: join(dataDirectory, 'data'),
    };
    const propertiesFile = join(dataDirectory, 'server.properties');
    const log4jFile = join(dataDirectory, 'log4j2.properties');
    await writeFile(propertiesFile, brokerProperties(placement, options.properties));
    await writeFile(log4jFile, BROKER_LOG4J2_PROPERTIES);
    await formatStorage(java, classpath, propertiesFile);
    const broker = new BrokerProcess(java, classpath, {
      version,
      bootstrapServers: [`127.0.0.1:${String(placement.brokerPort)}`],
      rootDirectory: dataDirectory,
      propertiesFile,
      log4jFile,
      heapMegabytes: options.heapMegabytes ?? 768,
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
    });
    await broker.start();
    return broker;
  } catch (error) {
    await rm(dataDirectory, { recursive: true, force: true });
    throw error;
  }
}

/** A KRaft node's storage is formatted once, with a cluster id, before its first start. */
async function formatStorage(java: JavaRuntime, classpath: KafkaClasspath, propertiesFile: string): Promise<void> {
  const result = await runCommand(java.command, [
    '-Xmx256m',
    '-cp',
    join(classpath.libs, '*'),
    'kafka.tools.StorageTool',
    'format',
    '--cluster-id',
    clusterId(),
    '--config',
    propertiesFile,
  ]);
  if (result.code !== 0) {
    throw new LocalInfrastructureUnavailableError(
      `cannot format the local Kafka ${classpath.version} storage: ${result.output.trim()}`,
    );
  }
}

/** A Kafka Uuid in its base64url form; like Kafka's own, never one a command line would take for an option. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

interface BrokerSettings {
  readonly version: string;
  readonly bootstrapServers: readonly string[];
  readonly rootDirectory: string;
  readonly propertiesFile: string;
  readonly log4jFile: string;
  readonly heapMegabytes: number;
  readonly startTimeoutMs: number;
}

class BrokerProcess implements ApacheKafka {
  readonly kind = 'apache-kafka';
  readonly version: string;
  readonly bootstrapServers: readonly string[];
  readonly dataDirectory: string;
  private child: ChildProcessWithoutNullStreams | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly output = new OutputTail(200);
  private stopped = false;

  constructor(
    private readonly java: JavaRuntime,
    private readonly classpath: KafkaClasspath,
    private readonly settings: BrokerSettings,
  ) {
    this.version = settings.version;
    this.bootstrapServers = settings.bootstrapServers;
    this.dataDirectory = settings.rootDirectory;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn(
      this.java.command,
      [
        `-Xmx${String(this.settings.heapMegabytes)}m`,
        `-Xms${String(Math.min(256, this.settings.heapMegabytes))}m`,
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${this.settings.log4jFile}`,
        `-Dkafka.logs.dir=${join(this.settings.rootDirectory, 'logs')}`,
        '-cp',
        `${this.classpath.launcher}:${join(this.classpath.libs, '*')}`,
        'LocalKafka',
        'kafka.Kafka',
        this.settings.propertiesFile,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child = child;
    const forgetOnExit = killOnExit(child);
    const life = { gone: false };
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        life.gone = true;
        forgetOnExit();
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    child.once('error', (error) => {
      this.output.push(`spawn failed: ${error.message}`);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
    });
    try {
      await waitForCluster(this.bootstrapServers, {
        timeoutMs: this.settings.startTimeoutMs,
        isAbandoned: () => life.gone,
      });
    } catch (error) {
      child.kill('SIGKILL');
      await this.exited;
      throw new LocalInfrastructureUnavailableError(
        `the local Apache Kafka ${this.version} did not come up${life.gone ? ' (the JVM exited)' : ''}: ${this.output.text()}`,
        { cause: error },
      );
    }
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('the local Apache Kafka was stopped; start a new one');
    await this.kill();
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const child = this.child;
    if (child !== undefined) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(killer);
    }
    await rm(this.settings.rootDirectory, { recursive: true, force: true });
  }
}

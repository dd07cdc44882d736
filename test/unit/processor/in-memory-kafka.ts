import type { Kafka } from 'kafkajs';

/** A record as a topic partition holds it. */
export interface StoredRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Epoch ms as a decimal string, as kafkajs reports it: the producer's, else the time it was appended. */
  readonly timestamp: string;
}

interface OutgoingMessage {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly partition?: number;
  readonly timestamp?: string;
}

interface TopicOffsets {
  readonly topics: readonly { topic: string; partitions: readonly { partition: number; offset: string }[] }[];
}

type Listener = (event: { payload: unknown }) => void;

const EVENTS = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;

function toBuffer(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * Just enough of a Kafka cluster, in memory, to drive the Processor and the changelog restore through kafkajs'
 * interfaces: topics of partitions, committed group offsets, a fetch that hands a partition's whole backlog over as
 * one batch (as one fetch of a real broker can), and a hook in front of each offset commit where a test stops the
 * world (a hang: the process was killed) or fails the commit.
 */
export class InMemoryKafka {
  private readonly logs = new Map<string, StoredRecord[][]>();
  private readonly committed = new Map<string, bigint>();
  /** Called before an offset commit of `group` is applied; a rejection fails the commit, a hang freezes it. */
  beforeCommit: (group: string) => Promise<void> = () => Promise.resolve();
  readonly commitAttempts: string[] = [];
  /** Called after a produce request is appended and before it is acknowledged; a rejection loses the ack. */
  afterAppend: () => Promise<void> = () => Promise.resolve();
  /** Producers made so far (a processor makes a new one after a failed write). */
  producers = 0;

  createTopic(name: string, partitions: number): void {
    this.logs.set(
      name,
      Array.from({ length: partitions }, (): StoredRecord[] => []),
    );
  }

  records(topic: string, partition = 0): readonly StoredRecord[] {
    return this.partitionLog(topic, partition);
  }

  committedOffset(group: string, topic: string, partition = 0): bigint | undefined {
    return this.committed.get(`${group}|${topic}|${String(partition)}`);
  }

  append(topic: string, partition: number, messages: readonly OutgoingMessage[]): string {
    const log = this.partitionLog(topic, partition);
    const base = String(log.length);
    for (const message of messages) {
      log.push({
        offset: String(log.length),
        key: toBuffer(message.key),
        value: toBuffer(message.value),
        timestamp: message.timestamp ?? String(Date.now()),
      });
    }
    return base;
  }

  /** The cluster as the `Kafka` the processor is given. */
  asKafka(): Kafka {
    const client = {
      consumer: (config: { groupId: string }) => new InMemoryConsumer(this, config.groupId),
      producer: () => {
        this.producers += 1;
        return {
          connect: () => Promise.resolve(),
          disconnect: () => Promise.resolve(),
          sendBatch: async (request: {
            topicMessages: readonly { topic: string; messages: readonly OutgoingMessage[] }[];
          }) => {
            const results = request.topicMessages.flatMap(({ topic, messages }) => {
              const byPartition = new Map<number, OutgoingMessage[]>();
              for (const message of messages) {
                const partition = message.partition ?? 0;
                byPartition.set(partition, [...(byPartition.get(partition) ?? []), message]);
              }
              return [...byPartition].map(([partition, batch]) => ({
                topicName: topic,
                partition,
                errorCode: 0,
                baseOffset: this.append(topic, partition, batch),
              }));
            });
            await this.afterAppend();
            return results;
          },
        };
      },
      admin: () => ({
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        fetchTopicOffsets: (topic: string) =>
          Promise.resolve(
            this.partitionsOf(topic).map((log, partition) => ({
              partition,
              offset: String(log.length),
              high: String(log.length),
              low: '0',
            })),
          ),
      }),
    };
    return client as unknown as Kafka;
  }

  /** @internal */
  partitionsOf(topic: string): StoredRecord[][] {
    const partitions = this.logs.get(topic);
    if (partitions === undefined) throw new Error(`no topic ${topic}`);
    return partitions;
  }

  /** @internal */
  async commit(group: string, offsets: TopicOffsets): Promise<void> {
    this.commitAttempts.push(group);
    await this.beforeCommit(group);
    for (const { topic, partitions } of offsets.topics) {
      for (const { partition, offset } of partitions) {
        this.committed.set(`${group}|${topic}|${String(partition)}`, BigInt(offset));
      }
    }
  }

  private partitionLog(topic: string, partition: number): StoredRecord[] {
    const log = this.partitionsOf(topic)[partition];
    if (log === undefined) throw new Error(`no partition ${String(partition)} of ${topic}`);
    return log;
  }
}

interface EachBatchHandler {
  (payload: unknown): Promise<void>;
}

/** One group member owning every partition of its topics; batches are handed over one partition at a time. */
class InMemoryConsumer {
  readonly events = EVENTS;
  private readonly listeners = new Map<string, Listener[]>();
  private topics: string[] = [];
  private readonly positions = new Map<string, bigint>();
  private readonly seeks = new Map<string, bigint>();
  private running = false;

  constructor(
    private readonly cluster: InMemoryKafka,
    private readonly groupId: string,
  ) {}

  connect(): Promise<void> {
    return Promise.resolve();
  }

  on(event: string, listener: Listener): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () => undefined;
  }

  subscribe(request: { topic?: string; topics?: string[] }): Promise<void> {
    this.topics = request.topics ?? (request.topic === undefined ? [] : [request.topic]);
    return Promise.resolve();
  }

  seek({ topic, partition, offset }: { topic: string; partition: number; offset: string }): void {
    this.seeks.set(`${topic}|${String(partition)}`, BigInt(offset));
  }

  pause(): void {}

  commitOffsets(offsets: readonly { topic: string; partition: number; offset: string }[]): Promise<void> {
    return this.cluster.commit(this.groupId, {
      topics: offsets.map(({ topic, partition, offset }) => ({ topic, partitions: [{ partition, offset }] })),
    });
  }

  run(config: { eachBatch: EachBatchHandler; eachBatchAutoResolve?: boolean }): Promise<void> {
    this.running = true;
    const assignment: Record<string, number[]> = {};
    for (const topic of this.topics) assignment[topic] = this.cluster.partitionsOf(topic).map((_, p) => p);
    for (const listener of this.listeners.get(EVENTS.GROUP_JOIN) ?? []) {
      listener({ payload: { memberAssignment: assignment } });
    }
    void this.loop(config.eachBatch, config.eachBatchAutoResolve ?? true).catch((error: unknown) => {
      for (const listener of this.listeners.get(EVENTS.CRASH) ?? []) listener({ payload: { error, restart: false } });
    });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.running = false;
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    this.running = false;
    return Promise.resolve();
  }

  /** Read through a call: the loop awaits, and stop() may have run meanwhile. */
  private active(): boolean {
    return this.running;
  }

  private async loop(eachBatch: EachBatchHandler, autoResolve: boolean): Promise<void> {
    while (this.active()) {
      // Timers run between fetches, as they do between a real consumer's network round trips.
      await new Promise((resolve) => setImmediate(resolve));
      let delivered = false;
      for (const topic of this.topics) {
        for (const [partition, log] of this.cluster.partitionsOf(topic).entries()) {
          if (!this.active()) return;
          const key = `${topic}|${String(partition)}`;
          const start =
            this.seeks.get(key) ??
            this.positions.get(key) ??
            this.cluster.committedOffset(this.groupId, topic, partition) ??
            0n;
          this.seeks.delete(key);
          this.positions.set(key, start);
          const messages = log.slice(Number(start));
          if (messages.length === 0) continue;
          delivered = true;
          await this.deliver(eachBatch, autoResolve, topic, partition, log.length, messages);
        }
      }
      if (!delivered) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** A failing batch is delivered again from the last resolved offset, as kafkajs' runner retries it. */
  private async deliver(
    eachBatch: EachBatchHandler,
    autoResolve: boolean,
    topic: string,
    partition: number,
    highWatermark: number,
    messages: readonly StoredRecord[],
  ): Promise<void> {
    const key = `${topic}|${String(partition)}`;
    const first = messages[0]?.offset ?? '0';
    const last = messages[messages.length - 1]?.offset ?? first;
    const batch = {
      topic,
      partition,
      highWatermark: String(highWatermark),
      messages: messages.map((message) => ({ ...message, attributes: 0, headers: {} })),
      isEmpty: () => messages.length === 0,
      firstOffset: () => first,
      lastOffset: () => last,
      offsetLag: () => String(highWatermark - 1 - Number(last)),
      offsetLagLow: () => String(highWatermark - 1 - Number(first)),
    };
    try {
      await eachBatch({
        batch,
        resolveOffset: (offset: string) => {
          this.positions.set(key, BigInt(offset) + 1n);
        },
        heartbeat: () => Promise.resolve(),
        pause: () => () => undefined,
        commitOffsetsIfNecessary: (offsets?: TopicOffsets) =>
          offsets === undefined ? Promise.resolve() : this.cluster.commit(this.groupId, offsets),
        uncommittedOffsets: () => ({ topics: [] }),
        isRunning: () => this.running,
        isStale: () => this.seeks.has(key),
      });
      if (autoResolve) this.positions.set(key, BigInt(last) + 1n);
    } catch {
      // kafkajs re-fetches from the last resolved offset (unchanged here) and hands the batch over again.
    }
  }
}

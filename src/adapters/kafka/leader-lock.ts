import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../../log/logger.js';

export interface LeaderLockOptions {
  readonly kafka: Kafka;
  /** A one-partition topic; the group member assigned its partition 0 is the leader. */
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly logger: Logger;
  readonly now: () => number;
  readonly onChange?: (leader: boolean) => void;
}

/**
 * Leader election on a Kafka consumer group (no ZooKeeper, no Kubernetes API): every replica joins the group over a
 * one-partition topic and the one that the coordinator assigns the partition is the leader. A leader that dies is
 * replaced within the session timeout; one that leaves gracefully, at the next rebalance.
 *
 * `isLeader` also demands a heartbeat acknowledged within half a session timeout, so a replica that stalled (GC
 * pause, network partition) stops acting before the coordinator can have handed the partition to someone else.
 */
export class LeaderLock {
  private readonly consumer: Consumer;
  private assigned = false;
  private lastHeartbeat = 0;

  constructor(private readonly options: LeaderLockOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1_000,
    });
  }

  get isLeader(): boolean {
    return this.assigned && this.options.now() - this.lastHeartbeat < this.options.sessionTimeoutMs / 2;
  }

  /** The kafkajs consumer, for health tracking. */
  get kafkaConsumer(): Consumer {
    return this.consumer;
  }

  async start(): Promise<void> {
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, (event) => {
      this.lastHeartbeat = this.options.now();
      this.set((event.payload.memberAssignment[this.options.topic] ?? []).includes(0));
    });
    this.consumer.on(events.HEARTBEAT, () => {
      this.lastHeartbeat = this.options.now();
    });
    for (const lost of [events.REBALANCING, events.STOP, events.CRASH, events.DISCONNECT]) {
      this.consumer.on(lost, () => {
        this.set(false);
      });
    }
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: false });
    await this.consumer.run({ eachMessage: async () => {} });
  }

  /** Leaves the group so another replica takes over at once. */
  async stop(): Promise<void> {
    this.set(false);
    await this.consumer.disconnect();
  }

  private set(leader: boolean): void {
    if (leader === this.assigned) return;
    this.assigned = leader;
    this.options.logger.info({ leader }, leader ? 'became the active flusher' : 'no longer the active flusher');
    this.options.onChange?.(leader);
  }
}

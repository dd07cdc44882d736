import kafkajs from 'kafkajs';
import type { Assigner, Consumer, GroupMember, Kafka, PartitionAssigner } from 'kafkajs';
import { z } from 'zod';
import type { Logger } from '../../log/logger.js';

const { AssignerProtocol, PartitionAssigners } = kafkajs;

/** The lock's assignment protocol: every replica's first choice. */
export const LEADER_LOCK_PROTOCOL = 'PersonaStreamLeaderLock';

/** What a member says about itself when it joins: since when it has held the lock (null: it does not). */
export interface LockClaim {
  readonly memberId: string;
  readonly heldSince: number | null;
}

/**
 * The member that gets the lock: the one that acquired it most recently, so that a replica joining (or rejoining
 * after a rebalance) never takes the lock from a live holder, and a stalled ex-holder that comes back does not take
 * it from its successor; with no holder, the smallest member id. Undefined only for an empty group.
 */
export function chooseLockHolder(claims: readonly LockClaim[]): string | undefined {
  let chosen: LockClaim | undefined;
  for (const claim of claims) {
    if (chosen === undefined) {
      chosen = claim;
      continue;
    }
    const held = claim.heldSince ?? Number.NEGATIVE_INFINITY;
    const chosenHeld = chosen.heldSince ?? Number.NEGATIVE_INFINITY;
    if (held > chosenHeld || (held === chosenHeld && claim.memberId < chosen.memberId)) chosen = claim;
  }
  return chosen?.memberId;
}

function readClaim(member: GroupMember): LockClaim {
  const userData = AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.userData;
  let heldSince: number | null = null;
  try {
    const parsed: unknown = userData === undefined ? null : JSON.parse(userData.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'heldSince' in parsed) {
      const value = parsed.heldSince;
      if (typeof value === 'number' && Number.isFinite(value)) heldSince = value;
    }
  } catch {
    // A claim that cannot be read counts as no claim.
  }
  return { memberId: member.memberId, heldSince };
}

/**
 * Partition 0 of each subscribed topic to the chosen holder (chooseLockHolder), and an explicit empty assignment to
 * every other member. The holder choice is the point: kafkajs' round-robin would give the partition to the smallest
 * member id, so a replica joining would take the lock from a live holder about half the time. The empty entries are
 * what Java's assignors return too; a real broker would fill in members the leader left out (kafkajs' round-robin
 * leaves out those without a partition), but the librdkafka mock cluster, which the SyncGroup fault test still runs
 * on, waits for all of them and never completes the rebalance.
 */
function lockAssigner(heldSince: () => number | null): PartitionAssigner {
  return (): Assigner => ({
    name: LEADER_LOCK_PROTOCOL,
    version: 1,
    assign: ({ members, topics }) => {
      const holder = chooseLockHolder(members.map(readClaim));
      return Promise.resolve(
        members.map((member) => ({
          memberId: member.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: member.memberId === holder ? Object.fromEntries(topics.map((topic) => [topic, [0]])) : {},
            userData: Buffer.alloc(0),
          }),
        })),
      );
    },
    protocol: ({ topics }) => ({
      name: LEADER_LOCK_PROTOCOL,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.from(JSON.stringify({ heldSince: heldSince() })),
      }),
    }),
  });
}

/** kafkajs' CRASH payload: `restart` false means kafkajs leaves the consumer down (the error was not retriable). */
const crashPayload = z.object({
  error: z.object({ name: z.string(), message: z.string() }).partial().optional(),
  restart: z.boolean(),
});

/** 1 s, doubling per consecutive failed restart, at most 30 s. */
export function defaultLockRestartDelayMs(attempt: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.min(Math.max(attempt - 1, 0), 5));
}

export interface LeaderLockOptions {
  readonly kafka: Pick<Kafka, 'consumer'>;
  /** A one-partition topic; the group member assigned its partition 0 is the leader. */
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly logger: Logger;
  readonly now: () => number;
  readonly onChange?: (leader: boolean) => void;
  /** Delay before the n-th (from 1) consecutive restart of a member kafkajs left down; defaultLockRestartDelayMs. */
  readonly restartDelayMs?: (attempt: number) => number;
}

/**
 * Leader election on a Kafka consumer group (no ZooKeeper, no Kubernetes API): every replica joins the group over a
 * one-partition topic and the one assigned its partition is the leader. The assignment is sticky (chooseLockHolder):
 * a replica that joins does not take the lock from a live holder. A leader that dies is replaced once the coordinator
 * has seen its session time out (and the rebalance that follows is done); one that leaves gracefully, as soon as the
 * rebalance its leaving starts is done.
 *
 * `isLeader` also demands a heartbeat acknowledged within half a session timeout, so a replica that stalled (GC
 * pause, network partition) stops acting before the coordinator can have handed the partition to someone else
 * (callers check it before each action, not once per batch of them). A replica that rejoins after the coordinator
 * expired it reports the lock lost (onChange(false)) even when it gets the partition back: its tenure ended, and
 * another replica may have acted in between.
 *
 * A member that crashed on an error kafkajs does not retry (kafkajs then leaves it down for good) is started again
 * here, after a back-off: a replica whose member is down could never take over. On a real broker that is, for one,
 * INCONSISTENT_GROUP_PROTOCOL while a consumer of another kind that got there first holds the lock's group (an
 * operator's `kafka-console-consumer --group <prefix>flusher`), or GROUP_AUTHORIZATION_FAILED until an ACL is fixed:
 * the member comes back once the cause is gone, without waiting for the liveness check to have the pod restarted.
 * The librdkafka mock adds one a real broker never gives: INVALID_REQUEST to a follower's SyncGroup that comes after
 * the leader's.
 */
export class LeaderLock {
  private readonly consumer: Consumer;
  private assigned = false;
  private lastHeartbeat = 0;
  /** When this replica last acquired the lock; kept through a rebalance (its claim when it rejoins). */
  private heldSince: number | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Consecutive restarts since the member last joined the group. */
  private restarts = 0;

  constructor(private readonly options: LeaderLockOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      // Round-robin second: the protocol of replicas from before the lock had its own, so that a group of old and
      // new replicas (a rolling upgrade) still agrees on one; once all are new, they all prefer the lock's.
      partitionAssigners: [lockAssigner(() => this.heldSince), PartitionAssigners.roundRobin],
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1_000,
    });
  }

  get isLeader(): boolean {
    return this.assigned && this.heartbeatFresh(this.options.now());
  }

  /** The kafkajs consumer, for health tracking. */
  get kafkaConsumer(): Consumer {
    return this.consumer;
  }

  async start(): Promise<void> {
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, (event) => {
      const now = this.options.now();
      // Rejoining without a rebalance notice (the coordinator had expired this member: a stall, a partition) ends
      // the tenure even if the partition comes back: another replica may have held the lock in between.
      if (this.assigned && !this.heartbeatFresh(now)) this.set(false);
      this.lastHeartbeat = now;
      this.restarts = 0;
      const holds = (event.payload.memberAssignment[this.options.topic] ?? []).includes(0);
      this.heldSince = holds ? (this.heldSince ?? now) : null;
      this.set(holds);
    });
    this.consumer.on(events.HEARTBEAT, () => {
      this.lastHeartbeat = this.options.now();
    });
    for (const lost of [events.REBALANCING, events.STOP, events.DISCONNECT]) {
      this.consumer.on(lost, () => {
        this.set(false);
      });
    }
    this.consumer.on(events.CRASH, (event) => {
      this.set(false);
      const crash = crashPayload.safeParse(event.payload);
      // An unreadable payload is taken as "left down": a restart of a member kafkajs also restarts is refused by it.
      if (crash.success && crash.data.restart) return;
      const error = crash.success ? crash.data.error : undefined;
      this.scheduleRestart(`${error?.name ?? 'Error'}: ${error?.message ?? 'unknown'}`);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: false });
    await this.run();
  }

  /** Leaves the group so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.set(false);
    await this.consumer.disconnect();
  }

  private async run(): Promise<void> {
    await this.consumer.run({ eachMessage: async () => {} });
  }

  private scheduleRestart(reason: string): void {
    if (this.stopping || this.restartTimer !== undefined) return;
    this.restarts++;
    const delayMs = (this.options.restartDelayMs ?? defaultLockRestartDelayMs)(this.restarts);
    this.options.logger.error(
      { reason, attempt: this.restarts, delayMs },
      'the lock member crashed and kafkajs leaves it down: starting it again',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart();
    }, delayMs);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    try {
      // kafkajs disconnected it before reporting the crash; the subscription is kept.
      await this.consumer.connect();
      if (!this.stopRequested()) await this.run();
      // stop() came while this connected or joined: its disconnect may have run before, so disconnect again.
      if (this.stopRequested()) await this.consumer.disconnect();
    } catch (error) {
      this.scheduleRestart(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  }

  /** Read anew after each await (stop() may have come meanwhile). */
  private stopRequested(): boolean {
    return this.stopping;
  }

  private heartbeatFresh(now: number): boolean {
    return now - this.lastHeartbeat < this.options.sessionTimeoutMs / 2;
  }

  private set(leader: boolean): void {
    if (leader === this.assigned) return;
    this.assigned = leader;
    this.options.logger.info({ leader }, leader ? 'became the active flusher' : 'no longer the active flusher');
    this.options.onChange?.(leader);
  }
}

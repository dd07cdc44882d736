import kafkajs from 'kafkajs';
import type { Assigner, Consumer, GroupMember, Kafka, PartitionAssigner } from 'kafkajs';
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
 * Partition 0 of each subscribed topic to the chosen holder, and an explicit empty assignment to every other
 * member: a broker fills in members the leader left out, but the librdkafka mock cluster waits for all of them and
 * never completes the rebalance (kafkajs' round-robin assigner leaves out members that get no partition).
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
 */
export class LeaderLock {
  private readonly consumer: Consumer;
  private assigned = false;
  private lastHeartbeat = 0;
  /** When this replica last acquired the lock; kept through a rebalance (its claim when it rejoins). */
  private heldSince: number | null = null;

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
      const holds = (event.payload.memberAssignment[this.options.topic] ?? []).includes(0);
      this.heldSince = holds ? (this.heldSince ?? now) : null;
      this.set(holds);
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

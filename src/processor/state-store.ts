import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';

/**
 * Where a partition's state stands relative to its changelog: every changelog record before `changelogOffset` is
 * already in the local store. `watermark` is the partition's event-time watermark at that point.
 */
export interface PartitionCheckpoint {
  /** Next changelog offset to read, as the decimal string Kafka uses for 64-bit offsets. */
  readonly changelogOffset: string;
  readonly watermark: number;
}

export interface StoredEntity {
  /** Hash of the last profile written for the entity (0: none yet). */
  readonly profileHash: number;
  readonly state: Uint8Array;
}

/**
 * The processor's local state: LMDB, one environment per processor instance. LMDB keeps the states in a
 * memory-mapped B-tree outside the V8 heap, so a million customers cost page cache (reclaimable, bounded by the
 * pod's disk) rather than heap; a write of a batch's states and the partition checkpoint is one ACID transaction,
 * so after kill -9 the store holds exactly the states its checkpoint says.
 *
 * Keys are [partition, state key]: a partition's entities are one contiguous range (restore, refresh, drop).
 */
export class StateStore {
  private readonly root: RootDatabase;
  private readonly states: Database<Buffer, [number, string]>;
  private readonly meta: Database<PartitionCheckpoint, string>;

  /**
   * `durable: false` is for a store deleted after use (a replay's temporary one): commits are not flushed to disk,
   * which makes a batch's write ~30 times cheaper, and a crash can lose or corrupt the store.
   */
  constructor(
    readonly directory: string,
    options: { readonly durable?: boolean } = {},
  ) {
    mkdirSync(directory, { recursive: true });
    this.root = open({ path: directory, maxDbs: 4, compression: false, noSync: options.durable === false });
    this.states = this.root.openDB<Buffer, [number, string]>({ name: 'states', encoding: 'binary' });
    this.meta = this.root.openDB<PartitionCheckpoint, string>({ name: 'meta', encoding: 'json' });
  }

  get(partition: number, key: string): StoredEntity | undefined {
    const value = this.states.getBinary([partition, key]);
    return value === undefined ? undefined : decodeStored(value);
  }

  checkpoint(partition: number): PartitionCheckpoint | undefined {
    return this.meta.get(checkpointKey(partition));
  }

  /** Writes entities and the partition's checkpoint atomically. */
  write(partition: number, entities: ReadonlyMap<string, StoredEntity>, checkpoint: PartitionCheckpoint): void {
    this.root.transactionSync(() => {
      for (const [key, entity] of entities) void this.states.put([partition, key], encodeStored(entity));
      void this.meta.put(checkpointKey(partition), checkpoint);
    });
  }

  /** Every entity of a partition in key order; with `after`, only the keys that sort after it (paging). */
  *entries(partition: number, after?: string): Generator<[string, StoredEntity]> {
    const start: [number] | [number, string] = after === undefined ? [partition] : [partition, after];
    for (const { key, value } of this.states.getRange({ start, end: [partition + 1] })) {
      if (key[1] === after) continue;
      yield [key[1], decodeStored(value)];
    }
  }

  count(partition: number): number {
    return this.states.getCount({ start: [partition], end: [partition + 1] });
  }

  /** Forgets a partition (a new state generation, or a store found inconsistent with its changelog). */
  clear(partition: number): void {
    this.root.transactionSync(() => {
      for (const key of this.states.getKeys({ start: [partition], end: [partition + 1] })) void this.states.remove(key);
      void this.meta.remove(checkpointKey(partition));
    });
  }

  close(): Promise<void> {
    return this.root.close();
  }
}

function checkpointKey(partition: number): string {
  return `checkpoint:${String(partition)}`;
}

/** A changelog value and a stored value share one layout: 4 bytes of profile hash, then the state bytes. */
export function encodeStored(entity: StoredEntity): Buffer {
  const bytes = Buffer.allocUnsafe(4 + entity.state.byteLength);
  bytes.writeInt32BE(entity.profileHash | 0, 0);
  bytes.set(entity.state, 4);
  return bytes;
}

export function decodeStored(bytes: Uint8Array): StoredEntity {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.byteLength < 4) throw new RangeError(`stored state of ${String(view.byteLength)} bytes is truncated`);
  return { profileHash: view.readInt32BE(0), state: view.subarray(4) };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import {
  advanceEntity,
  applySegmentMessageToState,
  createPipeline,
  createUserState,
  deriveProfile,
  type UserState,
} from '../../../src/domain/pipeline/pipeline.js';
import { createEntityStateCodec } from '../../../src/domain/state/index.js';
import type { SegmentMessage } from '../../../src/domain/segment/model.js';
import { createLogger } from '../../../src/log/logger.js';
import { encodeWatermark, restoreFromChangelog, WATERMARK_KEY } from '../../../src/processor/changelog-restorer.js';
import { profileHash } from '../../../src/processor/partition-processor.js';
import { StateStore, type StoredEntity } from '../../../src/processor/state-store.js';
import { repairEntity } from '../../../src/processor/watermark-repair-plan.js';
import { profileToRecord } from '../../../src/records/profile-record.js';
import { InMemoryKafka } from './in-memory-kafka.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1, 12);
const YEAR_9999 = Date.UTC(9999, 11, 31, 23, 59, 59);
const pipeline = createPipeline(
  parsePipelineConfig({
    traits: [
      { key: 'purchase_count', type: 'count', event: 'Order Completed' },
      { key: 'orders_7d', type: 'count', event: 'Order Completed', within_days: 7 },
    ],
  }),
);
const codec = createEntityStateCodec(pipeline);
const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function order(messageId: string, at: number): SegmentMessage {
  return {
    type: 'track',
    messageId,
    userId: 'u1',
    anonymousId: null,
    entityKey: 'u1',
    timestamp: at,
    event: 'Order Completed',
    properties: {},
    traits: {},
    groupId: null,
    previousId: null,
  };
}

/** What an older version left: a user with two orders, advanced to (and judged at) the runaway watermark. */
function ranAhead(): { stored: StoredEntity; state: UserState } {
  const state = createUserState('u1');
  applySegmentMessageToState(pipeline, state, order('o1', T0));
  applySegmentMessageToState(pipeline, state, order('o2', T0 + DAY));
  advanceEntity(pipeline, state, YEAR_9999);
  const hash = profileHash(profileToRecord(deriveProfile(pipeline, state, YEAR_9999)));
  return { stored: { profileHash: hash, state: codec.encode(state) }, state };
}

describe('repair-watermark, entity by entity', () => {
  it('re-judges a profile judged after the target at the target, and moves a horizon carried past it back', () => {
    const target = T0 + 2 * DAY;
    const repair = repairEntity('user:u1', ranAhead().stored, {
      pipeline,
      codec,
      target,
      tableAsOf: new Map([['user:u1', YEAR_9999]]),
    });
    expect(repair).toMatchObject({ rewound: true, judgedAfterTarget: true, eventsAfterTarget: false });
    expect(repair.profile?.as_of).toBe(target);
    expect(repair.profile?.fields['purchase_count']).toBe(2);
    // The days the runaway watermark cut are gone from the window (until a replay) ...
    expect(repair.profile?.fields['orders_7d']).toBe(0);

    // ... but what comes next is placed in windows and deduplicated again.
    const repaired = codec.decode(repair.stored?.state ?? new Uint8Array());
    if (repaired.kind !== 'user') throw new Error('expected a user');
    expect(applySegmentMessageToState(pipeline, repaired, order('o3', target + DAY))).toBe(true);
    expect(applySegmentMessageToState(pipeline, repaired, order('o3', target + DAY))).toBe(false);
    const fields = deriveProfile(pipeline, repaired, target + DAY).fields;
    expect([fields['purchase_count'], fields['orders_7d']]).toEqual([3, 1]);
  });

  it('leaves an entity alone when its profile was judged no later than the target and nothing changed', () => {
    const state = createUserState('u1');
    applySegmentMessageToState(pipeline, state, order('o1', T0));
    advanceEntity(pipeline, state, T0);
    const hash = profileHash(profileToRecord(deriveProfile(pipeline, state, T0 + DAY)));
    const repair = repairEntity(
      'user:u1',
      { profileHash: hash, state: codec.encode(state) },
      { pipeline, codec, target: T0 + DAY, tableAsOf: new Map([['user:u1', T0]]) },
    );
    expect(repair).toMatchObject({ stored: undefined, profile: undefined, rewound: false, judgedAfterTarget: false });
  });

  it('counts the runaway event itself as something only a replay removes', () => {
    const state = createUserState('u1');
    applySegmentMessageToState(pipeline, state, order('from-9999', YEAR_9999));
    const repair = repairEntity(
      'user:u1',
      { profileHash: 0, state: codec.encode(state) },
      { pipeline, codec, target: T0, tableAsOf: new Map() },
    );
    expect(repair.eventsAfterTarget).toBe(true);
  });
});

describe('changelog restore', () => {
  it('takes the newest watermark record, not the highest, so a repaired watermark is restored', async () => {
    const cluster = new InMemoryKafka();
    cluster.createTopic('state-changelog', 1);
    const inputs = { 'segment.events': '42' };
    cluster.append('state-changelog', 0, [
      { key: WATERMARK_KEY, value: encodeWatermark(YEAR_9999, inputs) },
      { key: WATERMARK_KEY, value: encodeWatermark(T0, inputs) },
    ]);
    const directory = mkdtempSync(join(tmpdir(), 'persona-stream-restore-'));
    const store = new StateStore(directory);
    cleanup.push(async () => {
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    });
    const kafka = cluster.asKafka();
    await restoreFromChangelog({
      kafka,
      admin: kafka.admin(),
      topic: 'state-changelog',
      partitions: [0],
      store,
      logger: createLogger({ level: 'silent', name: 'test' }),
      groupPrefix: 'test.',
    });
    expect(store.checkpoint(0)).toEqual({ changelogOffset: '2', watermark: T0, inputs });
  });
});

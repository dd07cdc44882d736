import { describe, expect, it } from 'vitest';
import { topicCatalogue, topicName } from '../../../src/adapters/kafka/topic-catalogue.js';

describe('topic catalogue', () => {
  const catalogue = topicCatalogue({ prefix: 'persona-stream.', eventPartitions: 24 });

  it('names every topic of the design with the prefix', () => {
    expect(catalogue.map((spec) => spec.name)).toEqual([
      'persona-stream.stripe.events',
      'persona-stream.segment.events',
      'persona-stream.state-changelog',
      'persona-stream.profiles',
      'persona-stream.personas',
      'persona-stream.persona-updates',
      'persona-stream.dlq',
      'persona-stream.flusher-lock',
    ]);
    expect(topicName(catalogue, 'dlq')).toBe('persona-stream.dlq');
  });

  it('keeps event topics for replay and compacts the derived tables', () => {
    const policy = Object.fromEntries(catalogue.map((spec) => [spec.baseName, spec.cleanupPolicy]));
    expect(policy).toMatchObject({
      'stripe.events': 'delete',
      'segment.events': 'delete',
      'state-changelog': 'compact',
      profiles: 'compact',
      personas: 'compact',
    });
    expect(catalogue.find((spec) => spec.baseName === 'stripe.events')?.configs['retention.ms']).toBe('-1');
  });

  it('co-partitions the state changelog with the event topics', () => {
    const partitions = (base: string) => catalogue.find((spec) => spec.baseName === base)?.partitions;
    expect(partitions('stripe.events')).toBe(24);
    expect(partitions('segment.events')).toBe(24);
    expect(partitions('state-changelog')).toBe(24);
  });
});

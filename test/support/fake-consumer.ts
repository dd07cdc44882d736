import { EventEmitter } from 'node:events';
import type { Consumer, ConsumerEvents, InstrumentationEvent, Kafka } from 'kafkajs';
import type { InstrumentedConsumer } from '../../src/adapters/health/consumer-health.js';

export const EVENTS: ConsumerEvents = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
};

/**
 * Stands in for a kafkajs consumer: same event names, same event envelope; its lifecycle calls (connect, subscribe,
 * run, disconnect) are only counted — a test emits the events a real consumer would.
 */
export class FakeConsumer implements InstrumentedConsumer {
  readonly events = EVENTS;
  readonly calls = { connect: 0, subscribe: 0, run: 0, disconnect: 0 };
  private readonly emitter = new EventEmitter();

  on(eventName: string, listener: (event: InstrumentationEvent<unknown>) => void): () => void {
    this.emitter.on(eventName, listener);
    return () => this.emitter.off(eventName, listener);
  }

  emit(eventName: keyof ConsumerEvents, payload: unknown = null): void {
    const event: InstrumentationEvent<unknown> = { id: '1', type: EVENTS[eventName], timestamp: 0, payload };
    this.emitter.emit(EVENTS[eventName], event);
  }

  listeners(): number {
    return Object.values(EVENTS).reduce((sum, name) => sum + this.emitter.listenerCount(name), 0);
  }

  connect(): Promise<void> {
    this.calls.connect++;
    return Promise.resolve();
  }

  subscribe(): Promise<void> {
    this.calls.subscribe++;
    return Promise.resolve();
  }

  run(): Promise<void> {
    this.calls.run++;
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    this.calls.disconnect++;
    return Promise.resolve();
  }
}

/** A Kafka client whose every consumer is `consumer`. */
export function fakeKafka(consumer: FakeConsumer): Pick<Kafka, 'consumer'> {
  // The fake implements what LeaderLock and the health tracker call, not the whole Consumer interface.
  return { consumer: () => consumer as unknown as Consumer };
}

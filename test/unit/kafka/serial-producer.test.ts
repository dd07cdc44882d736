import type { Kafka, Message, Producer, ProducerBatch, ProducerConfig } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ProducerClosedError, SerialProducer } from '../../../src/adapters/kafka/serial-producer.js';

/** A kafkajs producer whose sends wait until the test settles them. */
class FakeProducer {
  readonly batches: ProducerBatch[] = [];
  private readonly pending: { resolve(): void; reject(error: Error): void }[] = [];
  connected = false;
  disconnected = false;
  failConnect = false;

  constructor(readonly config: ProducerConfig) {}

  connect(): Promise<void> {
    if (this.failConnect) return Promise.reject(new Error('broker unreachable'));
    this.connected = true;
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    this.disconnected = true;
    return Promise.resolve();
  }

  sendBatch(batch: ProducerBatch): Promise<[]> {
    this.batches.push(batch);
    return new Promise((resolve, reject) => {
      this.pending.push({
        resolve: () => {
          resolve([]);
        },
        reject,
      });
    });
  }

  /** Settles the oldest send in flight. */
  async settle(error?: Error): Promise<void> {
    await until(() => this.pending.length > 0);
    const next = this.pending.shift();
    if (error === undefined) next?.resolve();
    else next?.reject(error);
  }
}

function fakeKafka(options: { failConnectFrom?: number } = {}) {
  const producers: FakeProducer[] = [];
  const kafka: Pick<Kafka, 'producer'> = {
    producer: (config?: ProducerConfig) => {
      const producer = new FakeProducer(config ?? {});
      producer.failConnect = options.failConnectFrom !== undefined && producers.length >= options.failConnectFrom;
      producers.push(producer);
      return producer as unknown as Producer;
    },
  };
  return { kafka, producers };
}

async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 1_000) throw new Error('condition never held');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const message = (value: string): Message => ({ key: 'k', value });
const values = (batch: ProducerBatch | undefined) =>
  batch?.topicMessages?.flatMap(({ topic, messages }) => messages.map((each) => `${topic}:${String(each.value)}`));

describe('SerialProducer', () => {
  it('builds an idempotent producer with one request in flight, and sends with acks from all replicas', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new SerialProducer(kafka, { idempotent: true });
    await producer.connect();
    const sent = producer.send('events', [message('a')]);
    await producers[0]?.settle();
    await sent;
    expect(producers[0]?.config).toMatchObject({ idempotent: true, maxInFlightRequests: 1 });
    expect(producers[0]?.batches[0]).toMatchObject({ acks: -1, timeout: 10_000 });
  });

  it('sends one request at a time; what queued meanwhile goes out as the next request, in call order', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new SerialProducer(kafka, { idempotent: true });
    const fake = producers[0];
    const first = producer.send('events', [message('1')]);
    const rest = [
      producer.send('events', [message('2')]),
      producer.send('other', [message('3')]),
      producer.send('events', [message('4'), message('5')]),
    ];
    await until(() => fake?.batches.length === 1);
    expect(fake?.batches).toHaveLength(1);
    await fake?.settle();
    await first;
    await fake?.settle();
    await Promise.all(rest);
    expect(fake?.batches.map(values)).toEqual([['events:1'], ['events:2', 'other:3', 'events:4', 'events:5']]);
  });

  it('merges no more than 512 KiB of keys and values into one request', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new SerialProducer(kafka, { idempotent: true });
    const fake = producers[0];
    const big = 'x'.repeat(200 * 1024);
    const sends = [0, 1, 2, 3].map((i) => producer.send('events', [message(`${String(i)}${big}`)]));
    for (let i = 0; i < 3; i++) await fake?.settle();
    await Promise.all(sends);
    expect(fake?.batches.map((batch) => values(batch)?.length)).toEqual([1, 2, 1]);
  });

  it('never sends what its caller stopped waiting for before it went out, and rejects it with the reason', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new SerialProducer(kafka, { idempotent: true });
    const fake = producers[0];
    const first = producer.send('events', [message('in flight')]);
    const abandon = new AbortController();
    const abandoned = producer.send('events', [message('abandoned')], abandon.signal);
    const kept = producer.send('events', [message('kept')]);
    abandon.abort(new Error('deadline'));
    await expect(abandoned).rejects.toThrow('deadline');
    await fake?.settle();
    await fake?.settle();
    await Promise.all([first, kept]);
    expect(fake?.batches.map(values)).toEqual([['events:in flight'], ['events:kept']]);
  });

  it('sends after a failed send through a new producer (a new producer id, no sequence numbers to collide)', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new SerialProducer(kafka, { idempotent: true });
    await producer.connect();
    const failed = producer.send('events', [message('lost ack')]);
    await producers[0]?.settle(new Error('Closed connection'));
    await expect(failed).rejects.toThrow('Closed connection');
    const next = producer.send('events', [message('next')]);
    await until(() => producers.length === 2);
    await producers[1]?.settle();
    await next;
    expect(producers.map((each) => [each.disconnected, each.connected])).toEqual([
      [true, true],
      [false, true],
    ]);
    expect(values(producers[1]?.batches[0])).toEqual(['events:next']);
  });

  it('keeps trying a new producer while none can connect, failing the sends meanwhile', async () => {
    const { kafka, producers } = fakeKafka({ failConnectFrom: 1 });
    const producer = new SerialProducer(kafka, { idempotent: true });
    await producer.connect();
    const failed = producer.send('events', [message('a')]);
    await producers[0]?.settle(new Error('Closed connection'));
    await expect(failed).rejects.toThrow('Closed connection');
    await expect(producer.send('events', [message('b')])).rejects.toThrow('broker unreachable');
    await expect(producer.send('events', [message('c')])).rejects.toThrow('broker unreachable');
    expect(producers).toHaveLength(3);
  });

  it('keeps its producer after a failed send when not idempotent (no sequence numbers to go wrong)', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new SerialProducer(kafka, { idempotent: false });
    const failed = producer.send('events', [message('a')]);
    await producers[0]?.settle(new Error('Closed connection'));
    await expect(failed).rejects.toThrow();
    const next = producer.send('events', [message('b')]);
    await producers[0]?.settle();
    await next;
    expect(producers).toHaveLength(1);
    expect(producers[0]?.config).toMatchObject({ idempotent: false });
  });

  it('on disconnect refuses what has not gone out and lets the send in flight finish first', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new SerialProducer(kafka, { idempotent: true });
    const fake = producers[0];
    const inFlight = producer.send('events', [message('in flight')]);
    const queued = producer.send('events', [message('queued')]);
    await until(() => fake?.batches.length === 1);
    const disconnected = producer.disconnect();
    await expect(queued).rejects.toBeInstanceOf(ProducerClosedError);
    expect(fake?.disconnected).toBe(false);
    await fake?.settle();
    await inFlight;
    await disconnected;
    expect(fake?.disconnected).toBe(true);
    await expect(producer.send('events', [message('late')])).rejects.toBeInstanceOf(ProducerClosedError);
  });
});

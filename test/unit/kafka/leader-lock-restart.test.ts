import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultLockRestartDelayMs, LeaderLock } from '../../../src/adapters/kafka/leader-lock.js';
import { createLogger } from '../../../src/log/logger.js';
import { FakeConsumer, fakeKafka } from '../../support/fake-consumer.js';

const TOPIC = 'persona-stream.flusher-lock';

function joined(partitions: number[]) {
  return { groupId: 'persona-stream.flusher', memberId: 'm-1', memberAssignment: { [TOPIC]: partitions } };
}

function crash(restart: boolean) {
  return { error: { name: 'KafkaJSProtocolError', message: 'invalid request' }, groupId: 'g', restart };
}

async function startLock() {
  const consumer = new FakeConsumer();
  const changes: boolean[] = [];
  const attempts: number[] = [];
  const lock = new LeaderLock({
    kafka: fakeKafka(consumer),
    topic: TOPIC,
    groupId: 'persona-stream.flusher',
    sessionTimeoutMs: 10_000,
    logger: createLogger({ level: 'silent', name: 'lock-test' }),
    now: Date.now,
    onChange: (leader) => changes.push(leader),
    restartDelayMs: (attempt) => {
      attempts.push(attempt);
      return 1_000;
    },
  });
  await lock.start();
  return { consumer, lock, changes, attempts };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LeaderLock after its member crashes', () => {
  it('starts a member kafkajs leaves down again after the back-off; it takes the lock once assigned', async () => {
    vi.useFakeTimers();
    const { consumer, lock, changes } = await startLock();
    consumer.emit('GROUP_JOIN', joined([0]));
    expect(lock.isLeader).toBe(true);

    consumer.emit('CRASH', crash(false));
    expect(lock.isLeader).toBe(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(consumer.calls).toMatchObject({ connect: 1, run: 1 });
    await vi.advanceTimersByTimeAsync(1);
    // Connected and run again; the subscription is kept (kafkajs keeps it across a disconnect).
    expect(consumer.calls).toEqual({ connect: 2, subscribe: 1, run: 2, disconnect: 0 });

    consumer.emit('GROUP_JOIN', joined([0]));
    expect(lock.isLeader).toBe(true);
    expect(changes).toEqual([true, false, true]);
    await lock.stop();
  });

  it('leaves a member kafkajs restarts itself alone', async () => {
    vi.useFakeTimers();
    const { consumer, lock, changes, attempts } = await startLock();
    consumer.emit('GROUP_JOIN', joined([0]));
    consumer.emit('CRASH', crash(true));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(consumer.calls.run).toBe(1);
    expect(attempts).toEqual([]);
    // The tenure ended all the same: another replica may hold the lock before kafkajs' restart rejoins.
    expect(changes).toEqual([true, false]);
    await lock.stop();
  });

  it('counts consecutive failed restarts for the back-off, from 1 again once the member joined', async () => {
    vi.useFakeTimers();
    const { consumer, lock, attempts } = await startLock();
    consumer.emit('CRASH', crash(false));
    await vi.advanceTimersByTimeAsync(1_000);
    consumer.emit('CRASH', crash(false));
    await vi.advanceTimersByTimeAsync(1_000);
    consumer.emit('GROUP_JOIN', joined([]));
    consumer.emit('CRASH', crash(false));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toEqual([1, 2, 1]);
    expect(consumer.calls.run).toBe(4);
    await lock.stop();
  });

  it('takes a crash whose payload it cannot read as one kafkajs leaves down', async () => {
    vi.useFakeTimers();
    const { consumer, lock } = await startLock();
    consumer.emit('CRASH', { something: 'else' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(consumer.calls.run).toBe(2);
    await lock.stop();
  });

  it('does not start a member again once stopped', async () => {
    vi.useFakeTimers();
    const { consumer, lock } = await startLock();
    consumer.emit('CRASH', crash(false));
    await lock.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(consumer.calls).toEqual({ connect: 1, subscribe: 1, run: 1, disconnect: 1 });
  });
});

describe('defaultLockRestartDelayMs', () => {
  it('waits 1 s, doubling per consecutive failure, at most 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(defaultLockRestartDelayMs)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});

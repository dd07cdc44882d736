import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { trackConsumerHealth } from '../../../src/adapters/health/consumer-health.js';
import { HealthRegistry } from '../../../src/adapters/health/health-registry.js';
import { FakeConsumer } from '../../support/fake-consumer.js';

function joined(assignment: Record<string, number[]>) {
  return {
    duration: 40,
    groupId: 'persona-stream.processor',
    isLeader: true,
    leaderId: 'm-1',
    groupProtocol: 'RoundRobinAssigner',
    memberId: 'm-1',
    memberAssignment: assignment,
  };
}

function setup(options: { readyWithoutPartitions?: boolean; registry?: HealthRegistry } = {}) {
  let clock = 1_000_000;
  const consumer = new FakeConsumer();
  const health = trackConsumerHealth(consumer, 'events-consumer', {
    sessionTimeoutMs: 10_000,
    now: () => clock,
    ...options,
  });
  const advance = (ms: number) => {
    clock += ms;
  };
  return { consumer, health, advance };
}

describe('trackConsumerHealth', () => {
  it('is alive but not ready until it joins the group with partitions', () => {
    const { consumer, health } = setup();
    expect(health.liveness()).toEqual({ ok: true, detail: 'events-consumer: not connected yet' });
    expect(health.readiness()).toEqual({ ok: false, detail: 'events-consumer: not connected' });
    consumer.emit('CONNECT');
    expect(health.readiness()).toEqual({ ok: false, detail: 'events-consumer: connected, joining the group' });
    consumer.emit(
      'GROUP_JOIN',
      joined({ 'persona-stream.stripe.events': [0, 3], 'persona-stream.segment.events': [0, 3] }),
    );
    expect(health.liveness()).toEqual({ ok: true, detail: 'events-consumer: heartbeat 0 s ago' });
    expect(health.readiness()).toEqual({ ok: true, detail: 'events-consumer: consuming 4 partitions' });
  });

  it('fails liveness once heartbeats stop for 3 × the session timeout', () => {
    const { consumer, health, advance } = setup();
    consumer.emit('GROUP_JOIN', joined({ t: [1] }));
    advance(29_000);
    consumer.emit('HEARTBEAT', { groupId: 'g', memberId: 'm-1', groupGenerationId: 1 });
    advance(30_000);
    expect(health.liveness()).toEqual({ ok: true, detail: 'events-consumer: heartbeat 30 s ago' });
    advance(1);
    expect(health.liveness()).toEqual({
      ok: false,
      detail: 'events-consumer: no heartbeat for 30 s, over the 30 s limit',
    });
  });

  it('a rebalance is legitimate for a while, then a liveness failure', () => {
    const { consumer, health, advance } = setup();
    consumer.emit('GROUP_JOIN', joined({ t: [1] }));
    consumer.emit('REBALANCING', { groupId: 'g', memberId: 'm-1' });
    advance(20_000);
    expect(health.liveness()).toEqual({ ok: true, detail: 'events-consumer: rebalancing for 20 s' });
    expect(health.readiness()).toEqual({ ok: false, detail: 'events-consumer: rebalancing' });
    advance(11_000);
    expect(health.liveness()).toEqual({
      ok: false,
      detail: 'events-consumer: rebalancing for 31 s, over the 30 s limit',
    });
    consumer.emit('GROUP_JOIN', joined({ t: [1, 2] }));
    expect(health.liveness().ok).toBe(true);
    expect(health.readiness()).toEqual({ ok: true, detail: 'events-consumer: consuming 2 partitions' });
  });

  it('a crash kafkajs will not restart fails liveness at once', () => {
    const { consumer, health } = setup();
    consumer.emit('GROUP_JOIN', joined({ t: [1] }));
    // kafkajs stops and disconnects a crashing consumer before it reports the crash.
    consumer.emit('STOP');
    consumer.emit('DISCONNECT');
    consumer.emit('CRASH', { error: new Error('Topic authorization failed'), groupId: 'g', restart: false });
    expect(health.liveness()).toEqual({
      ok: false,
      detail: 'events-consumer: crashed (Topic authorization failed); kafkajs will not restart it',
    });
    expect(health.readiness()).toEqual({ ok: false, detail: 'events-consumer: crashed (Topic authorization failed)' });
  });

  it('a crash kafkajs restarts stays alive while it rejoins in time', () => {
    const { consumer, health, advance } = setup();
    consumer.emit('GROUP_JOIN', joined({ t: [1] }));
    consumer.emit('CRASH', { error: new Error('Connection timeout'), groupId: 'g', restart: true });
    expect(health.liveness()).toEqual({
      ok: true,
      detail: 'events-consumer: crashed (Connection timeout); kafkajs is restarting it',
    });
    advance(30_001);
    expect(health.liveness()).toEqual({
      ok: false,
      detail: 'events-consumer: crashed (Connection timeout) and not back in the group after 30 s',
    });
    consumer.emit('CONNECT');
    consumer.emit('GROUP_JOIN', joined({ t: [1] }));
    expect(health.liveness().ok).toBe(true);
    expect(health.readiness().ok).toBe(true);
  });

  it('an unreadable crash payload is treated as a restart that must rejoin in time', () => {
    const { consumer, health, advance } = setup();
    consumer.emit('CRASH', { restart: 'maybe' });
    expect(health.liveness().ok).toBe(true);
    advance(30_001);
    expect(health.liveness()).toEqual({
      ok: false,
      detail: 'events-consumer: crashed (crash event without a readable payload) and not back in the group after 30 s',
    });
  });

  it('restoring keeps it alive however long it takes, and not ready until done', () => {
    const { consumer, health, advance } = setup();
    consumer.emit('GROUP_JOIN', joined({ t: [0] }));
    health.markRestoring(true);
    expect(health.readiness()).toEqual({ ok: false, detail: 'events-consumer: restoring state of 1 partition' });
    advance(600_000);
    expect(health.liveness()).toEqual({ ok: true, detail: 'events-consumer: restoring state' });
    health.markRestoring(false);
    expect(health.liveness()).toEqual({ ok: true, detail: 'events-consumer: heartbeat 0 s ago' });
    expect(health.readiness()).toEqual({ ok: true, detail: 'events-consumer: consuming 1 partition' });
  });

  it('a member without partitions is not ready unless configured so', () => {
    const strict = setup();
    strict.consumer.emit('GROUP_JOIN', joined({}));
    expect(strict.health.readiness()).toEqual({ ok: false, detail: 'events-consumer: joined, no partitions assigned' });
    const lenient = setup({ readyWithoutPartitions: true });
    lenient.consumer.emit('GROUP_JOIN', joined({}));
    expect(lenient.health.readiness()).toEqual({ ok: true, detail: 'events-consumer: consuming 0 partitions' });
  });

  it('a stopped consumer (draining) is alive but not ready', () => {
    const { consumer, health } = setup();
    consumer.emit('GROUP_JOIN', joined({ t: [0] }));
    consumer.emit('STOP');
    expect(health.liveness()).toEqual({ ok: true, detail: 'events-consumer: stopped' });
    expect(health.readiness()).toEqual({ ok: false, detail: 'events-consumer: stopped' });
    consumer.emit('DISCONNECT');
    expect(health.readiness()).toEqual({ ok: false, detail: 'events-consumer: disconnected' });
  });

  it('registers its checks under its name and removes them and its listeners on stop', () => {
    const registry = new HealthRegistry();
    const { consumer, health } = setup({ registry });
    consumer.emit('GROUP_JOIN', joined({ t: [0] }));
    expect(registry.evaluate('readiness')).toEqual({
      ok: true,
      checks: { 'events-consumer': { ok: true, detail: 'events-consumer: consuming 1 partition' } },
    });
    expect(consumer.listeners()).toBe(7);
    health.stop();
    expect(consumer.listeners()).toBe(0);
    expect(registry.evaluate('readiness')).toEqual({ ok: true, checks: {} });
    expect(registry.evaluate('liveness')).toEqual({ ok: true, checks: {} });
  });

  it('subscribes to a real kafkajs consumer with the event names kafkajs accepts', () => {
    // No broker is contacted: kafkajs only validates the event names here (it throws on unknown ones).
    const consumer = new kafkajs.Kafka({ brokers: ['127.0.0.1:1'], logLevel: kafkajs.logLevel.NOTHING }).consumer({
      groupId: 'health-test',
    });
    const health = trackConsumerHealth(consumer, 'real');
    expect(health.readiness()).toEqual({ ok: false, detail: 'real: not connected' });
    health.stop();
  });
});

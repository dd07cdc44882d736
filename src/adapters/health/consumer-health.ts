import type { ConsumerEvents, InstrumentationEvent } from 'kafkajs';
import { z } from 'zod';
import type { CheckResult, HealthCheck, HealthRegistry } from './health-registry.js';

type ConsumerEventName = ConsumerEvents[keyof ConsumerEvents];

/** The part of a kafkajs Consumer this module uses; a kafkajs `Consumer` is one. */
export interface InstrumentedConsumer {
  readonly events: ConsumerEvents;
  on(eventName: ConsumerEventName, listener: (event: InstrumentationEvent<unknown>) => void): () => void;
}

/** kafkajs' default session timeout. */
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;

export interface ConsumerHealthOptions {
  /** The consumer's sessionTimeout (default kafkajs' 30 000 ms). */
  readonly sessionTimeoutMs?: number;
  /**
   * Liveness fails when a group member has sent no heartbeat for this long, and when a rebalance or a restart after
   * a crash has not ended in a group join within it (default 3 × sessionTimeoutMs). By then the broker has long
   * removed the member, so nothing but a restart brings it back.
   */
  readonly heartbeatStaleMs?: number;
  /**
   * Readiness needs at least one assigned partition (default). Set true where a member without partitions (more
   * replicas than partitions) should still count as ready.
   */
  readonly readyWithoutPartitions?: boolean;
  /** Registers the checks under `name` (liveness and readiness); `stop()` removes them. */
  readonly registry?: HealthRegistry;
  /** Milliseconds; Date.now by default. */
  readonly now?: () => number;
}

export interface ConsumerHealth {
  readonly liveness: HealthCheck;
  readonly readiness: HealthCheck;
  /** While true the consumer is not ready (its partitions' state is being restored from the changelog). */
  markRestoring(restoring: boolean): void;
  /** Stops listening (and unregisters the checks, if it registered them). */
  stop(): void;
}

type Phase =
  | { readonly name: 'created' }
  | { readonly name: 'connected' }
  | { readonly name: 'rebalancing'; readonly since: number }
  | { readonly name: 'member'; readonly partitions: number | undefined }
  | { readonly name: 'restarting'; readonly since: number; readonly error: string }
  | { readonly name: 'crashed'; readonly error: string }
  | { readonly name: 'stopped' }
  | { readonly name: 'disconnected' };

const groupJoinPayload = z.object({ memberAssignment: z.record(z.string(), z.array(z.number())) });
const crashPayload = z.object({
  error: z.object({ message: z.string() }).optional(),
  restart: z.boolean(),
});

/**
 * Liveness and readiness of one kafkajs consumer, from its instrumentation events.
 *
 * Liveness ("not crashed, and heartbeating or legitimately rebalancing") fails only when a restart would help: a
 * crash kafkajs will not retry, no heartbeat from a group member for `heartbeatStaleMs`, or a rebalance or crash
 * restart that has not rejoined the group within it. Restoring state never fails liveness: a restore can outlast any
 * heartbeat threshold, and restarting the pod would only start it over.
 *
 * Readiness: joined the group, partitions assigned, and not restoring. A stopped or disconnected consumer is alive
 * (it is draining) but not ready.
 */
export function trackConsumerHealth(
  consumer: InstrumentedConsumer,
  name: string,
  options: ConsumerHealthOptions = {},
): ConsumerHealth {
  const now = options.now ?? Date.now;
  const staleMs = options.heartbeatStaleMs ?? 3 * (options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS);
  let phase: Phase = { name: 'created' };
  let lastHeartbeatAt = now();
  let restoring = false;

  const events = consumer.events;
  const removers = [
    consumer.on(events.CONNECT, () => {
      // kafkajs also reports CONNECT when run() starts; it never demotes a member.
      if (phase.name !== 'member' && phase.name !== 'rebalancing') phase = { name: 'connected' };
    }),
    consumer.on(events.REBALANCING, () => {
      phase = { name: 'rebalancing', since: now() };
    }),
    consumer.on(events.GROUP_JOIN, (event) => {
      const parsed = groupJoinPayload.safeParse(event.payload);
      const partitions = parsed.success
        ? Object.values(parsed.data.memberAssignment).reduce((sum, list) => sum + list.length, 0)
        : undefined;
      phase = { name: 'member', partitions };
      lastHeartbeatAt = now();
    }),
    consumer.on(events.HEARTBEAT, () => {
      lastHeartbeatAt = now();
    }),
    consumer.on(events.STOP, () => {
      phase = { name: 'stopped' };
    }),
    consumer.on(events.DISCONNECT, () => {
      phase = { name: 'disconnected' };
    }),
    consumer.on(events.CRASH, (event) => {
      const parsed = crashPayload.safeParse(event.payload);
      if (!parsed.success) {
        // Unknown shape: assume kafkajs restarts it, so a real restart recovers and a missing one fails later.
        phase = { name: 'restarting', since: now(), error: 'crash event without a readable payload' };
        return;
      }
      const error = parsed.data.error?.message ?? 'unknown error';
      phase = parsed.data.restart ? { name: 'restarting', since: now(), error } : { name: 'crashed', error };
    }),
  ];

  const seconds = (ms: number) => `${String(Math.round(ms / 1000))} s`;
  const limit = seconds(staleMs);

  const liveness = (): CheckResult => {
    const at = now();
    switch (phase.name) {
      case 'created':
        return { ok: true, detail: `${name}: not connected yet` };
      case 'connected':
        return { ok: true, detail: `${name}: connected, not in the group yet` };
      case 'rebalancing': {
        const elapsed = at - phase.since;
        return elapsed <= staleMs
          ? { ok: true, detail: `${name}: rebalancing for ${seconds(elapsed)}` }
          : { ok: false, detail: `${name}: rebalancing for ${seconds(elapsed)}, over the ${limit} limit` };
      }
      case 'member': {
        if (restoring) return { ok: true, detail: `${name}: restoring state` };
        const silent = at - lastHeartbeatAt;
        return silent <= staleMs
          ? { ok: true, detail: `${name}: heartbeat ${seconds(silent)} ago` }
          : { ok: false, detail: `${name}: no heartbeat for ${seconds(silent)}, over the ${limit} limit` };
      }
      case 'restarting': {
        const elapsed = at - phase.since;
        return elapsed <= staleMs
          ? { ok: true, detail: `${name}: crashed (${phase.error}); kafkajs is restarting it` }
          : {
              ok: false,
              detail: `${name}: crashed (${phase.error}) and not back in the group after ${seconds(elapsed)}`,
            };
      }
      case 'crashed':
        return { ok: false, detail: `${name}: crashed (${phase.error}); kafkajs will not restart it` };
      case 'stopped':
        return { ok: true, detail: `${name}: stopped` };
      case 'disconnected':
        return { ok: true, detail: `${name}: disconnected` };
    }
  };

  const readiness = (): CheckResult => {
    switch (phase.name) {
      case 'created':
        return { ok: false, detail: `${name}: not connected` };
      case 'connected':
        return { ok: false, detail: `${name}: connected, joining the group` };
      case 'rebalancing':
        return { ok: false, detail: `${name}: rebalancing` };
      case 'restarting':
      case 'crashed':
        return { ok: false, detail: `${name}: crashed (${phase.error})` };
      case 'stopped':
        return { ok: false, detail: `${name}: stopped` };
      case 'disconnected':
        return { ok: false, detail: `${name}: disconnected` };
      case 'member':
        if (phase.partitions === undefined) return { ok: false, detail: `${name}: joined, assignment unreadable` };
        if (phase.partitions === 0 && options.readyWithoutPartitions !== true) {
          return { ok: false, detail: `${name}: joined, no partitions assigned` };
        }
        if (restoring) return { ok: false, detail: `${name}: restoring state of ${partitionsText(phase.partitions)}` };
        return { ok: true, detail: `${name}: consuming ${partitionsText(phase.partitions)}` };
    }
  };

  const unregister =
    options.registry === undefined
      ? []
      : [options.registry.registerLiveness(name, liveness), options.registry.registerReadiness(name, readiness)];

  return {
    liveness,
    readiness,
    markRestoring: (value) => {
      // Heartbeats may have paused during the restore; staleness counts from its end.
      if (restoring && !value) lastHeartbeatAt = now();
      restoring = value;
    },
    stop: () => {
      for (const remove of [...removers, ...unregister]) remove();
    },
  };
}

function partitionsText(count: number): string {
  return count === 1 ? '1 partition' : `${String(count)} partitions`;
}

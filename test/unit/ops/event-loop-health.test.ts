import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopHealth } from '../../../src/adapters/health/event-loop-health.js';
import { HealthRegistry } from '../../../src/adapters/health/health-registry.js';
import type { RunningServer } from '../../../src/adapters/http/http-server.js';
import { startOpsServer } from '../../../src/adapters/http/ops-server.js';
import { createMetrics } from '../../../src/adapters/metrics/metrics.js';
import { createLogger } from '../../../src/log/logger.js';

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Synchronous work: nothing else on this thread runs meanwhile.
  }
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

describe('event-loop liveness', () => {
  let monitor: EventLoopHealth | undefined;
  let server: RunningServer | undefined;
  afterEach(async () => {
    monitor?.stop();
    await server?.close();
    monitor = undefined;
    server = undefined;
  });

  it('is healthy while the loop keeps up', async () => {
    monitor = new EventLoopHealth({ thresholdMs: 100, sustainMs: 200, sampleIntervalMs: 20 });
    monitor.start();
    await sleep(120);
    const result = monitor.check();
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/^event loop delay max \d+ ms, p99 \d+ ms \(stall threshold 100 ms\)$/);
  });

  it('detects a loop blocked past the threshold for the sustained period, and recovers after', async () => {
    monitor = new EventLoopHealth({ thresholdMs: 50, sustainMs: 200, sampleIntervalMs: 20 });
    monitor.start();
    await sleep(60);
    blockFor(400);
    const blocked = monitor.check();
    expect(blocked.ok).toBe(false);
    expect(blocked.detail).toMatch(/^event loop delayed over 50 ms for \d+ ms \(worst delay \d+ ms, limit 200 ms\)$/);
    const stalledMs = Number(/for (\d+) ms/.exec(blocked.detail)?.[1]);
    expect(stalledMs).toBeGreaterThanOrEqual(350);

    await sleep(200);
    expect(monitor.check().ok).toBe(true);
  });

  it('tolerates a block shorter than the sustained period', async () => {
    monitor = new EventLoopHealth({ thresholdMs: 50, sustainMs: 1_000, sampleIntervalMs: 20 });
    monitor.start();
    await sleep(40);
    blockFor(150);
    expect(monitor.check().ok).toBe(true);
  });

  it('turns /healthz to 503 after the loop was blocked', async () => {
    const checks = new HealthRegistry();
    server = await startOpsServer({
      port: 0,
      logger: createLogger({ level: 'silent', name: 'test' }),
      metrics: createMetrics({ version: 't' }),
      checks,
      // Samples far enough apart that the stall is still reported when the queued request is answered.
      eventLoop: { thresholdMs: 50, sustainMs: 200, sampleIntervalMs: 150 },
    });
    await sleep(160);
    blockFor(400);
    const response = await fetch(`http://127.0.0.1:${String(server.port)}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'failing', checks: { 'event-loop': { ok: false } } });
  });
});

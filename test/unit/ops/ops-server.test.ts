import { afterEach, describe, expect, it } from 'vitest';
import { DuplicateHealthCheckError, HealthRegistry } from '../../../src/adapters/health/health-registry.js';
import type { RunningServer } from '../../../src/adapters/http/http-server.js';
import { EVENT_LOOP_CHECK, startOpsServer } from '../../../src/adapters/http/ops-server.js';
import { createMetrics } from '../../../src/adapters/metrics/metrics.js';
import { createLogger } from '../../../src/log/logger.js';

const logger = createLogger({ level: 'silent', name: 'test' });

async function get(server: RunningServer, path: string, method = 'GET') {
  const response = await fetch(`http://127.0.0.1:${String(server.port)}${path}`, { method });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

async function getJson(server: RunningServer, path: string) {
  const { status, text } = await get(server, path);
  return { status, body: JSON.parse(text) as unknown };
}

describe('HealthRegistry', () => {
  it('passes with no checks, fails when any check fails, and reports every check', () => {
    const registry = new HealthRegistry();
    expect(registry.evaluate('readiness')).toEqual({ ok: true, checks: {} });
    registry.registerReadiness('kafka', () => ({ ok: true, detail: 'connected' }));
    registry.registerReadiness('state', () => ({ ok: false, detail: 'restoring partition 3' }));
    registry.registerLiveness('loop', () => ({ ok: true, detail: 'fine' }));
    expect(registry.evaluate('readiness')).toEqual({
      ok: false,
      checks: {
        kafka: { ok: true, detail: 'connected' },
        state: { ok: false, detail: 'restoring partition 3' },
      },
    });
    expect(registry.evaluate('liveness')).toEqual({ ok: true, checks: { loop: { ok: true, detail: 'fine' } } });
  });

  it('counts a check that throws as failing, with the error as detail', () => {
    const registry = new HealthRegistry();
    registry.registerLiveness('broken', () => {
      throw new Error('state store closed');
    });
    expect(registry.evaluate('liveness')).toEqual({
      ok: false,
      checks: { broken: { ok: false, detail: 'check threw: state store closed' } },
    });
  });

  it('rejects a second check of the same kind and name, and unregisters', () => {
    const registry = new HealthRegistry();
    const unregister = registry.registerLiveness('consumer', () => ({ ok: false, detail: 'crashed' }));
    expect(() => registry.registerLiveness('consumer', () => ({ ok: true, detail: '' }))).toThrow(
      DuplicateHealthCheckError,
    );
    // The same name may be used for both kinds.
    registry.registerReadiness('consumer', () => ({ ok: true, detail: 'consuming' }));
    unregister();
    expect(registry.evaluate('liveness')).toEqual({ ok: true, checks: {} });
  });
});

describe('ops server', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('GET /healthz: 200 with every liveness check, the event loop included', async () => {
    const checks = new HealthRegistry();
    checks.registerLiveness('consumer', () => ({ ok: true, detail: 'heartbeat 2 s ago' }));
    server = await startOpsServer({ port: 0, logger, metrics: createMetrics({ version: 't' }), checks });
    const { status, body } = await getJson(server, '/healthz');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      checks: {
        consumer: { ok: true, detail: 'heartbeat 2 s ago' },
        [EVENT_LOOP_CHECK]: { ok: true },
      },
    });
  });

  it('GET /healthz: 503 naming the failing check', async () => {
    const checks = new HealthRegistry();
    checks.registerLiveness('consumer', () => ({ ok: false, detail: 'crashed (connection refused)' }));
    server = await startOpsServer({ port: 0, logger, metrics: createMetrics({ version: 't' }), checks });
    const { status, body } = await getJson(server, '/healthz');
    expect(status).toBe(503);
    expect(body).toMatchObject({
      status: 'failing',
      checks: { consumer: { ok: false, detail: 'crashed (connection refused)' }, [EVENT_LOOP_CHECK]: { ok: true } },
    });
  });

  it('GET /readyz follows the readiness checks: 503 while restoring, 200 once restored', async () => {
    const checks = new HealthRegistry();
    let restored = false;
    checks.registerReadiness('kafka', () => ({ ok: true, detail: 'connected, 4 partitions' }));
    checks.registerReadiness('state', () =>
      restored ? { ok: true, detail: 'restored' } : { ok: false, detail: 'restoring' },
    );
    server = await startOpsServer({ port: 0, logger, metrics: createMetrics({ version: 't' }), checks });
    expect(await getJson(server, '/readyz')).toEqual({
      status: 503,
      body: {
        status: 'failing',
        checks: {
          kafka: { ok: true, detail: 'connected, 4 partitions' },
          state: { ok: false, detail: 'restoring' },
        },
      },
    });
    restored = true;
    expect(await getJson(server, '/readyz')).toEqual({
      status: 200,
      body: {
        status: 'ok',
        checks: { kafka: { ok: true, detail: 'connected, 4 partitions' }, state: { ok: true, detail: 'restored' } },
      },
    });
  });

  it('GET /metrics serves the Prometheus text format', async () => {
    const metrics = createMetrics({ version: '9.9.9', nodeVersion: 'v20.1.0' });
    metrics.recordsConsumed.inc({ topic: 'persona-stream.segment.events' }, 7);
    server = await startOpsServer({ port: 0, logger, metrics, checks: new HealthRegistry() });
    const { status, contentType, text } = await get(server, '/metrics');
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain('persona_stream_records_consumed_total{topic="persona-stream.segment.events"} 7\n');
    expect(text).toContain('persona_stream_build_info{version="9.9.9",node_version="v20.1.0"} 1\n');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter\n');
  });

  it('answers 405 to other methods, 404 elsewhere, and HEAD without a body', async () => {
    server = await startOpsServer({
      port: 0,
      logger,
      metrics: createMetrics({ version: 't' }),
      checks: new HealthRegistry(),
    });
    expect((await get(server, '/healthz', 'POST')).status).toBe(405);
    expect((await get(server, '/nope')).status).toBe(404);
    expect(await get(server, '/readyz?verbose=1', 'HEAD')).toEqual({
      status: 200,
      contentType: 'application/json',
      text: '',
    });
  });

  it('removes its event-loop check when closed', async () => {
    const checks = new HealthRegistry();
    const running = await startOpsServer({ port: 0, logger, metrics: createMetrics({ version: 't' }), checks });
    expect(Object.keys(checks.evaluate('liveness').checks)).toEqual([EVENT_LOOP_CHECK]);
    await running.close();
    expect(checks.evaluate('liveness')).toEqual({ ok: true, checks: {} });
  });
});

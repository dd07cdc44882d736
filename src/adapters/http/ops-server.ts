import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/logger.js';
import { EventLoopHealth, type EventLoopHealthOptions } from '../health/event-loop-health.js';
import type { CheckKind, HealthRegistry, HealthReport } from '../health/health-registry.js';
import type { Metrics } from '../metrics/metrics.js';
import { startHttpServer, type HttpServerLimits, type RunningServer } from './http-server.js';

export const HEALTHZ_PATH = '/healthz';
export const READYZ_PATH = '/readyz';
export const METRICS_PATH = '/metrics';
/** The name of the liveness check the ops server registers for the event loop. */
export const EVENT_LOOP_CHECK = 'event-loop';

export interface OpsServerOptions {
  /** METRICS_PORT; 0 picks a free port (tests). */
  readonly port: number;
  /** METRICS_HOST; undefined → every interface. */
  readonly host?: string | undefined;
  readonly limits?: HttpServerLimits;
  /** METRICS_BEARER_TOKEN: /metrics then wants `Authorization: Bearer <token>`; the probes stay open to the kubelet. */
  readonly bearerToken?: string | undefined;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly checks: HealthRegistry;
  /** Thresholds of the event-loop liveness check. */
  readonly eventLoop?: EventLoopHealthOptions;
}

/**
 * The operations endpoints every long-running role serves on METRICS_PORT:
 * - GET /healthz (liveness): 200 when every liveness check passes, the event loop's included, else 503;
 * - GET /readyz (readiness): 200 when every readiness check passes, else 503;
 * - GET /metrics: the Prometheus scrape (401 without the bearer token, when one is configured).
 * Health bodies are JSON: `{"status":"ok"|"failing","checks":{"<name>":{"ok":true,"detail":"…"}}}`.
 * Closing stops the event-loop monitor and removes its check.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<RunningServer> {
  const eventLoop = new EventLoopHealth(options.eventLoop);
  eventLoop.start();
  const unregister = options.checks.registerLiveness(EVENT_LOOP_CHECK, () => eventLoop.check());
  const log = options.logger.child({ component: 'ops-server' });
  const lastStatus: Record<CheckKind, boolean> = { liveness: true, readiness: false };

  const report = (kind: CheckKind): HealthReport => {
    const result = options.checks.evaluate(kind);
    // Probes arrive every few seconds: log the changes, not every answer.
    if (result.ok !== lastStatus[kind]) {
      lastStatus[kind] = result.ok;
      if (result.ok) log.info({ kind }, `${kind}: all checks pass`);
      else log.warn({ kind, failing: failingChecks(result) }, `${kind}: failing`);
    }
    return result;
  };

  const expected = options.bearerToken === undefined ? undefined : Buffer.from(`Bearer ${options.bearerToken}`);
  const bearerMatches = (authorization: string | undefined): boolean => {
    if (expected === undefined) return true;
    const given = Buffer.from(authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const path = request.url?.split('?')[0];
    if (path !== HEALTHZ_PATH && path !== READYZ_PATH && path !== METRICS_PATH) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'use GET' }));
      return true;
    }
    if (path === METRICS_PATH) {
      if (!bearerMatches(request.headers.authorization)) {
        response.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'a bearer token is required for /metrics' }));
        return true;
      }
      const text = await options.metrics.text();
      response.writeHead(200, { 'content-type': options.metrics.contentType, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : text);
      return true;
    }
    const result = report(path === HEALTHZ_PATH ? 'liveness' : 'readiness');
    response.writeHead(result.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(
      request.method === 'HEAD'
        ? undefined
        : JSON.stringify({ status: result.ok ? 'ok' : 'failing', checks: result.checks }),
    );
    return true;
  };

  let server: RunningServer;
  try {
    server = await startHttpServer(
      [route],
      {
        port: options.port,
        host: options.host,
        ...(options.limits === undefined ? {} : { limits: options.limits }),
      },
      options.logger,
    );
  } catch (error) {
    unregister();
    eventLoop.stop();
    throw error;
  }
  log.info({ port: server.port }, 'serving /healthz, /readyz and /metrics');
  return {
    port: server.port,
    close: async () => {
      await server.close();
      unregister();
      eventLoop.stop();
    },
  };
}

function failingChecks(report: HealthReport): Record<string, string> {
  const failing: Record<string, string> = {};
  for (const [name, result] of Object.entries(report.checks)) if (!result.ok) failing[name] = result.detail;
  return failing;
}

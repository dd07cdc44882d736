import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningServer } from '../../../src/adapters/http/http-server.js';
import { startOpsServer } from '../../../src/adapters/http/ops-server.js';
import { HealthRegistry } from '../../../src/adapters/health/health-registry.js';
import { createMetrics } from '../../../src/adapters/metrics/metrics.js';
import { memoryLogger } from '../../support/memory-logger.js';

const servers: RunningServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await server.close();
});

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      resolve(socket);
    });
    socket.once('error', reject);
    sockets.push(socket);
  });
}

/** Resolves with what the server sent once it closed the connection. */
function closedWith(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.once('close', () => {
      resolve(received);
    });
  });
}

const limits = { maxConnections: 2, headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 1_000 };
const ok = () => (_request: unknown, response: ServerResponse) => {
  response.end('ok');
  return Promise.resolve(true);
};

describe('the HTTP server under slow and greedy clients', () => {
  it('binds only the address it is given', async () => {
    const server = await startHttpServer([ok()], { port: 0, host: '127.0.0.1', limits }, memoryLogger().logger);
    servers.push(server);
    expect((await fetch(`http://127.0.0.1:${String(server.port)}/`)).status).toBe(200);
  });

  it('cuts off a client that never finishes its headers (408) after the headers timeout', async () => {
    const server = await startHttpServer([ok()], { port: 0, host: '127.0.0.1', limits }, memoryLogger().logger);
    servers.push(server);
    const socket = await openSocket(server.port);
    const started = Date.now();
    socket.write('POST /webhooks/segment HTTP/1.1\r\nHost: x\r\n');
    const answer = await closedWith(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('cuts off a client that sends its body too slowly after the request timeout', async () => {
    const server = await startHttpServer(
      [
        async (request, response) => {
          for await (const _chunk of request) {
            // Reads whatever trickles in.
          }
          response.end('ok');
          return true;
        },
      ],
      { port: 0, host: '127.0.0.1', limits },
      memoryLogger().logger,
    );
    servers.push(server);
    const socket = await openSocket(server.port);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{');
    const trickle = setInterval(() => socket.write(' '), 200);
    try {
      expect(await closedWith(socket)).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes connections beyond the cap as they arrive, and serves again once one is gone', async () => {
    const server = await startHttpServer([ok()], { port: 0, host: '127.0.0.1', limits }, memoryLogger().logger);
    servers.push(server);
    const held = [await openSocket(server.port), await openSocket(server.port)];
    const third = await openSocket(server.port);
    expect(await closedWith(third)).toBe('');
    held[0]?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await fetch(`http://127.0.0.1:${String(server.port)}/`)).status).toBe(200);
  });

  it('answers 500 when a route throws, and says so to the caller for its counters', async () => {
    const { logger, lines } = memoryLogger();
    const failed: string[] = [];
    const server = await startHttpServer(
      [() => Promise.reject(new Error('route broke'))],
      { port: 0, host: '127.0.0.1', limits, onUnhandledError: (request) => failed.push(request.url ?? '') },
      logger,
    );
    servers.push(server);
    expect((await fetch(`http://127.0.0.1:${String(server.port)}/v1/track`)).status).toBe(500);
    expect(failed).toEqual(['/v1/track']);
    expect(lines.some((line) => line['level'] === 'error' && line['msg'] === 'request failed')).toBe(true);
  });

  it('logs a client that went away mid-body at debug, not as an error', async () => {
    const { logger, lines } = memoryLogger();
    const server = await startHttpServer(
      [
        async (request) => {
          for await (const _chunk of request) {
            // The client leaves before the body ends.
          }
          throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
        },
      ],
      { port: 0, host: '127.0.0.1', limits },
      logger,
    );
    servers.push(server);
    const socket = await openSocket(server.port);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":');
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lines.filter((line) => line['level'] === 'error')).toEqual([]);
    expect(lines.some((line) => line['msg'] === 'client aborted the request')).toBe(true);
  });
});

describe('the ops server with METRICS_BEARER_TOKEN', () => {
  it('wants the token on /metrics, compared whole, and leaves the probes open', async () => {
    const server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      bearerToken: 'scrape-token-1',
      logger: memoryLogger().logger,
      metrics: createMetrics(),
      checks: new HealthRegistry(),
    });
    servers.push(server);
    const url = (path: string) => `http://127.0.0.1:${String(server.port)}${path}`;
    expect((await fetch(url('/metrics'))).status).toBe(401);
    expect((await fetch(url('/metrics'), { headers: { authorization: 'Bearer scrape-token-' } })).status).toBe(401);
    expect((await fetch(url('/metrics'), { headers: { authorization: 'Bearer scrape-token-1' } })).status).toBe(200);
    expect((await fetch(url('/healthz'))).status).toBe(200);
  });
});

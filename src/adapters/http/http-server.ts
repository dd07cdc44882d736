import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../log/logger.js';

/** A route answers the request and returns true, or returns false when the request is not its own. */
export type Route = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

export interface RunningServer {
  readonly port: number;
  /** Stops accepting connections and waits for the open requests to finish. */
  close(): Promise<void>;
}

/** What a slow or greedy client may take of a server (HTTP_* variables; see the README's security section). */
export interface HttpServerLimits {
  /** Connections beyond this are closed as they arrive. */
  readonly maxConnections: number;
  /** A client has this long to send a request's headers. */
  readonly headersTimeoutMs: number;
  /** And this long for the whole request, body included. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpServerLimits = {
  maxConnections: 1_024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

export interface HttpServerOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** The address to bind (127.0.0.1, a pod IP…); undefined → every interface, IPv6 and IPv4, as Node chooses. */
  readonly host: string | undefined;
  readonly limits?: HttpServerLimits;
  /** Told of each request that no route answered because one threw (answered 500), for the route's counters. */
  readonly onUnhandledError?: (request: IncomingMessage) => void;
}

const CONNECTION_CHECK_INTERVAL_MS = 1_000;

/** An HTTP server over a list of routes: the first route that takes a request answers it; otherwise 404. */
export async function startHttpServer(
  routes: readonly Route[],
  options: HttpServerOptions,
  logger: Logger,
): Promise<RunningServer> {
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
  const server: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks those two timeouts every 30 s by default, which would let a slow client hold on that long.
      connectionsCheckingInterval: CONNECTION_CHECK_INTERVAL_MS,
    },
    (request, response) => {
      void dispatch(routes, request, response, logger, options.onUnhandledError);
    },
  );
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => {
    logger.debug({ maxConnections: limits.maxConnections }, 'connection dropped: at the connection limit');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

async function dispatch(
  routes: readonly Route[],
  request: IncomingMessage,
  response: ServerResponse,
  logger: Logger,
  onUnhandledError: ((request: IncomingMessage) => void) | undefined,
): Promise<void> {
  try {
    for (const route of routes) {
      if (await route(request, response)) return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'not found' }));
  } catch (error) {
    if (isClientAbort(request, error)) {
      // The client went away mid-request: nothing to answer, nothing wrong here.
      logger.debug({ url: request.url }, 'client aborted the request');
      return;
    }
    logger.error({ err: error, url: request.url }, 'request failed');
    onUnhandledError?.(request);
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'internal error' }));
  }
}

/** Whether a request failed because its client went away (a reset, a body cut short), not through any fault here. */
export function isClientAbort(request: IncomingMessage, error: unknown): boolean {
  if (request.destroyed && !request.complete) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

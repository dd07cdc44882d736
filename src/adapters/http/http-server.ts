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

/** An HTTP server over a list of routes: the first route that takes a request answers it; otherwise 404. */
export async function startHttpServer(routes: readonly Route[], port: number, logger: Logger): Promise<RunningServer> {
  const server: Server = createServer((request, response) => {
    void dispatch(routes, request, response, logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
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
): Promise<void> {
  try {
    for (const route of routes) {
      if (await route(request, response)) return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'not found' }));
  } catch (error) {
    logger.error({ err: error, url: request.url }, 'request failed');
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'internal error' }));
  }
}

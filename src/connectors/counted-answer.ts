import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { isClientAbort } from './request-io.js';

/**
 * Answers a request and reports what became of it with the time it took, broker acknowledgement included. A client
 * that went away is reported as `aborted` and the error goes on to the HTTP server, which logs it at debug; any other
 * error goes on too and is answered 500 and counted there (`internal_error`).
 */
export async function countedAnswer<Result extends string>(
  request: IncomingMessage,
  report: ((result: Result | 'aborted', seconds: number) => void) | undefined,
  answer: () => Promise<Result>,
): Promise<void> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  let result: Result;
  try {
    result = await answer();
  } catch (error) {
    if (isClientAbort(request, error)) report?.('aborted', seconds());
    throw error;
  }
  report?.(result, seconds());
}

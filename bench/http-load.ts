import { performance } from 'node:perf_hooks';
import { percentile } from './stats.js';

export interface LoadRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly non200: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Closed-loop load over loopback: `concurrency` clients, each posting the next request as soon as its previous one
 * was answered (as Stripe's parallel deliveries or a fleet of Segment SDKs do). Latency is send → body read.
 */
export async function postAll(
  port: number,
  requests: readonly LoadRequest[],
  concurrency: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let non200 = 0;
  let next = 0;
  const started = performance.now();
  const client = async () => {
    for (let request = requests[next++]; request !== undefined; request = requests[next++]) {
      const sent = performance.now();
      const response = await fetch(`http://127.0.0.1:${String(port)}${request.path}`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - sent);
      if (response.status !== 200) non200++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return {
    requests: requests.length,
    seconds: (performance.now() - started) / 1_000,
    non200,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

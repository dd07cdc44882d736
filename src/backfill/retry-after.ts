/** Longest wait a server's Retry-After is honoured for; beyond it the request is treated as failed. */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * The wait a `Retry-After` header asks for, in milliseconds: delta-seconds (`1`, `0`, `2.5`) or an HTTP date.
 * Null when absent or unreadable (the caller falls back to its own backoff); capped at MAX_RETRY_AFTER_MS.
 */
export function retryAfterMs(header: string | readonly string[] | undefined, nowMs: number): number | null {
  const value = (typeof header === 'string' ? header : header?.[0])?.trim();
  if (value === undefined || value === '') return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.min(Math.round(Number(value) * 1000), MAX_RETRY_AFTER_MS);
  // Only an HTTP date (`Sun, 01 Mar 2026 12:00:04 GMT`): Date.parse alone would read "-1" as a year.
  const at = /^[A-Za-z]{3}, .+ GMT$/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(at)) return null;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}

/** Exponential backoff without jitter for retry `attempt` (1-based): 500 ms, 1 s, 2 s, 4 s, then 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(500 * 2 ** Math.max(0, attempt - 1), 5_000);
}

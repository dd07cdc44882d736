/** A stage of the demo did not finish in time: names what it was waiting for. */
export class DemoStalledError extends Error {
  constructor(
    readonly waitingFor: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${String(timeoutMs / 1_000)} s waiting for ${waitingFor}`);
    this.name = 'DemoStalledError';
  }
}

/** The demo was interrupted (SIGINT/SIGTERM) and stopped early, cleaning up what it started. */
export class DemoInterruptedError extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'DemoInterruptedError';
  }
}

const POLL_MS = 100;

export interface WaitOptions {
  readonly timeoutMs: number;
  /** What is awaited, for the error: "the processor to process all 80,000 event records". */
  readonly waitingFor: string;
  readonly signal: AbortSignal;
}

/**
 * Polls `produce` until it gives a value; throws DemoStalledError after `timeoutMs`, or the signal's reason once
 * aborted.
 */
export async function waitFor<T>(
  produce: () => T | undefined | Promise<T | undefined>,
  options: WaitOptions,
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    options.signal.throwIfAborted();
    const value = await produce();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new DemoStalledError(options.waitingFor, options.timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Polls `condition` until it holds (see waitFor). */
export async function waitUntil(condition: () => boolean | Promise<boolean>, options: WaitOptions): Promise<void> {
  await waitFor(async () => ((await condition()) ? true : undefined), options);
}

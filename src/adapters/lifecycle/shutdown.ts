import type { Logger } from '../../log/logger.js';
import type { HealthRegistry } from '../health/health-registry.js';

export type ShutdownSignal = 'SIGTERM' | 'SIGINT';

/**
 * Exit codes:
 * - 0: the drain finished within the grace period;
 * - 1: the drain failed, or the grace period elapsed first (what was left undrained is replayed after restart);
 * - 128 + signal number (130 for SIGINT, 143 for SIGTERM): a second signal while draining, the shell's convention
 *   for "killed by that signal".
 */
export const EXIT_DRAINED = 0;
export const EXIT_DRAIN_FAILED = 1;
export const EXIT_ON_SECOND_SIGNAL: Readonly<Record<ShutdownSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Kubernetes waits 30 s (terminationGracePeriodSeconds) before SIGKILL; leave 5 s to log and exit. */
export const DEFAULT_GRACE_MS = 25_000;

/** Where signals come from: `process` in production, an EventEmitter in tests. */
export interface SignalSource {
  on(signal: ShutdownSignal, listener: () => void): unknown;
  removeListener(signal: ShutdownSignal, listener: () => void): unknown;
}

export interface ShutdownOptions {
  /** Stop fetching, finish the batch, persist state, commit, leave the group: whatever the role must do. */
  readonly drain: () => Promise<void>;
  /** How long the drain may take before the process exits 1 anyway (default 25 000 ms; SHUTDOWN_GRACE_MS). */
  readonly graceMs?: number;
  readonly logger: Logger;
  /** process.exit by default; injected in tests. */
  readonly exit?: (code: number) => void;
  readonly signals?: readonly ShutdownSignal[];
  readonly source?: SignalSource;
  /** When given, registers the readiness check `shutdown`, failing from the first signal on. */
  readonly health?: HealthRegistry;
}

export interface ShutdownHandle {
  readonly draining: boolean;
  /** Removes the signal listeners (and the readiness check); for roles that stop by other means, and tests. */
  dispose(): void;
}

/**
 * Graceful shutdown on SIGTERM/SIGINT. The first signal runs `drain` once and exits 0 when it finishes within
 * `graceMs`, 1 when it fails or the grace period elapses first. A second signal exits at once (130/143), for the
 * operator who pressed Ctrl-C twice. Installing the listeners replaces Node's default of dying on the signal.
 */
export function onShutdownSignals(options: ShutdownOptions): ShutdownHandle {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const source: SignalSource = options.source ?? process;
  const log = options.logger.child({ component: 'shutdown' });
  let draining = false;
  let exited = false;
  let graceTimer: NodeJS.Timeout | undefined;

  const exitOnce = (code: number) => {
    if (exited) return;
    exited = true;
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    exit(code);
  };

  const onSignal = (signal: ShutdownSignal) => {
    if (draining) {
      log.warn({ signal }, `second ${signal} while draining: exiting at once without finishing the drain`);
      exitOnce(EXIT_ON_SECOND_SIGNAL[signal]);
      return;
    }
    draining = true;
    const startedAt = Date.now();
    log.info({ signal, graceMs }, `${signal} received: draining`);
    // Deliberately not unref'd: it must fire even if the drain hangs on something that holds no handle.
    graceTimer = setTimeout(() => {
      log.error({ graceMs }, `drain did not finish within ${String(graceMs)} ms: exiting 1`);
      exitOnce(EXIT_DRAIN_FAILED);
    }, graceMs);
    options.drain().then(
      () => {
        if (exited) return;
        log.info({ durationMs: Date.now() - startedAt }, 'drained: exiting 0');
        exitOnce(EXIT_DRAINED);
      },
      (error: unknown) => {
        if (exited) return;
        log.error({ err: error, durationMs: Date.now() - startedAt }, 'drain failed: exiting 1');
        exitOnce(EXIT_DRAIN_FAILED);
      },
    );
  };

  const listeners = signals.map((signal) => {
    const listener = () => {
      onSignal(signal);
    };
    source.on(signal, listener);
    return [signal, listener] as const;
  });
  const unregister = options.health?.registerReadiness('shutdown', () =>
    draining ? { ok: false, detail: 'draining: shutting down' } : { ok: true, detail: 'running' },
  );

  return {
    get draining() {
      return draining;
    },
    dispose: () => {
      for (const [signal, listener] of listeners) source.removeListener(signal, listener);
      unregister?.();
      if (graceTimer !== undefined && !exited) clearTimeout(graceTimer);
    },
  };
}

import { onShutdownSignals } from '../../adapters/lifecycle/shutdown.js';
import { loadEnv, type EnvConfig } from '../../config/env.js';
import { createLogger } from '../../log/logger.js';
import { createRuntime, type Runtime } from '../../roles/runtime.js';
import type { RunningRole } from '../../roles/processor-role.js';
import type { CliIo } from '../cli-io.js';

/**
 * Runs long-running roles until SIGTERM/SIGINT: ops endpoints first (so probes answer during start-up), then the
 * roles; on the first signal the roles drain in reverse start order within SHUTDOWN_GRACE_MS and the process exits
 * 0; a second signal exits at once.
 */
export async function runRoles(
  io: CliIo,
  name: string,
  check: (env: EnvConfig) => void,
  start: (runtime: Runtime) => Promise<readonly RunningRole[]>,
): Promise<number> {
  const env = loadEnv(io.env);
  check(env);
  const logger = createLogger({ level: env.logLevel, name });
  const runtime = await createRuntime(env, logger, { now: io.now });
  const ops = await runtime.startOps();
  logger.info({ port: ops.port }, 'ops endpoints: /healthz /readyz /metrics');
  let started = false;
  runtime.health.registerReadiness('roles-started', () =>
    started ? { ok: true, detail: 'every role started' } : { ok: false, detail: 'starting' },
  );
  let roles: readonly RunningRole[];
  try {
    roles = await start(runtime);
  } catch (error) {
    await ops.close();
    throw error;
  }
  started = true;
  return new Promise<number>((resolve) => {
    onShutdownSignals({
      logger,
      graceMs: env.shutdownGraceMs,
      health: runtime.health,
      drain: async () => {
        for (const role of [...roles].reverse()) await role.stop();
        await ops.close();
      },
      exit: (code) => {
        resolve(code);
        // Whatever still holds the event loop open after a drain (or a refused one) must not keep the pod alive.
        setTimeout(() => process.exit(code), 1_000).unref();
      },
    });
  });
}

/** One check's verdict; `detail` says why, in words an operator reading /healthz or /readyz can act on. */
export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** Synchronous and cheap: probes call it every few seconds, so it reads state, it never does I/O. */
export type HealthCheck = () => CheckResult;

export type CheckKind = 'liveness' | 'readiness';

export interface HealthReport {
  /** True when every check passes (also when there is none). */
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, CheckResult>>;
}

export class DuplicateHealthCheckError extends Error {
  constructor(
    readonly kind: CheckKind,
    readonly checkName: string,
  ) {
    super(`a ${kind} check named "${checkName}" is already registered`);
    this.name = 'DuplicateHealthCheckError';
  }
}

/**
 * Named liveness and readiness checks that each role registers. Liveness failing makes Kubernetes restart the pod,
 * so a liveness check fails only for what a restart fixes (a wedged loop, a dead consumer); readiness covers
 * everything that is merely not there yet (connecting, restoring, draining).
 */
export class HealthRegistry {
  private readonly checks: Record<CheckKind, Map<string, HealthCheck>> = {
    liveness: new Map(),
    readiness: new Map(),
  };

  /** Returns the function that removes the check again. */
  register(kind: CheckKind, name: string, check: HealthCheck): () => void {
    const checks = this.checks[kind];
    if (checks.has(name)) throw new DuplicateHealthCheckError(kind, name);
    checks.set(name, check);
    return () => {
      if (checks.get(name) === check) checks.delete(name);
    };
  }

  registerLiveness(name: string, check: HealthCheck): () => void {
    return this.register('liveness', name, check);
  }

  registerReadiness(name: string, check: HealthCheck): () => void {
    return this.register('readiness', name, check);
  }

  /** Runs every check of the kind; a check that throws counts as failing, with the error as its detail. */
  evaluate(kind: CheckKind): HealthReport {
    const results: Record<string, CheckResult> = {};
    let ok = true;
    for (const [name, check] of this.checks[kind]) {
      const result = runCheck(check);
      results[name] = result;
      ok &&= result.ok;
    }
    return { ok, checks: results };
  }
}

function runCheck(check: HealthCheck): CheckResult {
  try {
    const { ok, detail } = check();
    return { ok, detail };
  } catch (error) {
    return { ok: false, detail: `check threw: ${error instanceof Error ? error.message : String(error)}` };
  }
}

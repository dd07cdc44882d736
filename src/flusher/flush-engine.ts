import { systemClock, type Clock } from '../adapters/mavera/clock.js';
import {
  MaveraClient,
  type MaveraApi,
  type MaveraRequestEvent,
  type MaveraRequestObserver,
} from '../adapters/mavera/mavera-client.js';
import { MaveraError, type MaveraEndpoint } from '../adapters/mavera/mavera-error.js';
import { RetryPolicy, withRetry } from '../adapters/mavera/retry-policy.js';
import { contentHash } from '../domain/personas/canonical-json.js';
import type { MaveraPersonaPayload } from '../domain/personas/mavera-payload.js';
import { validatePersonaPayload } from '../domain/personas/mavera-shape.js';
import type { PersonaPolicy } from '../domain/personas/persona-policy.js';
import {
  decidePersonaUpdate,
  type PersonaUpdateDecision,
  type PersonaVersion,
} from '../domain/personas/persona-update-decision.js';
import { renderPersona } from '../domain/personas/render-persona.js';
import type { JsonObject } from '../domain/segment/model.js';
import type { SegmentFamily } from '../domain/segments/segment-family.js';
import { SegmentIndex } from '../domain/segments/segment-index.js';
import type { EpochMs } from '../domain/time.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { DeadLetter } from '../records/dead-letter.js';
import type { PersonaRegistryEntry } from '../records/persona-registry.js';
import type { PersonaUpdate } from '../records/persona-update.js';
import { profileFromRecord, type ProfileRecord } from '../records/profile-record.js';
import { segmentKey } from '../records/record-fields.js';
import { auditRecord, maveraDeadLetter, type AuditFields, type AuditSubject } from './flush-records.js';
import type { FlushOutputs } from './flush-outputs.js';
import { FlushReportBuilder, type FlushDecisionKind, type FlushReport, type SegmentResult } from './flush-report.js';
import { GuardedRateLimiter } from './guarded-rate-limiter.js';
import { personaHasContent, PersonaNameIndex } from './persona-adoption.js';
import { PersonaRegistryState, registryEntryFor, type RegistryRecord } from './persona-registry-state.js';
import { updateBody } from './update-body.js';

/** Mavera's documented price of a persona creation (reference §9). */
export const CREATE_CREDITS = 300;

/** The `mavera` part of EnvConfig (src/config/env.ts) — pass `env.mavera` as it is. */
export interface MaveraSinkSettings {
  readonly apiKey: string | undefined;
  readonly baseUrl: string;
  readonly rateLimitPerMin: number;
  readonly sandbox: boolean;
  readonly dryRun: boolean;
}

/** The parts of the pipeline config the flusher reads (a PipelineConfig fits). */
export interface FlushPipelineConfig {
  readonly segments: readonly SegmentFamily[];
  readonly personas: PersonaPolicy;
}

export interface FlushTuning {
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** Rate-limiter burst (default 3). */
  readonly burst?: number;
  /** Attempts of one create/update within one flush (default 4). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly maxRetryAfterMs?: number;
  /** Credits counted per creation when Mavera's answer has no `credits_charged` (default 300). */
  readonly createCredits?: number;
  /** Credits counted per update: undocumented (reference §2.4), default 0. */
  readonly updateCredits?: number;
}

export interface FlushEngineOptions {
  readonly config: FlushPipelineConfig;
  readonly mavera: MaveraSinkSettings;
  readonly outputs: FlushOutputs;
  readonly logger?: Logger;
  /** Time for backoff, rate limiting, latencies and record times (default: the system clock). */
  readonly clock?: Clock;
  readonly fetch?: typeof globalThis.fetch;
  /** Jitter source (default Math.random). */
  readonly random?: () => number;
  /** Every HTTP request to Mavera: the request-duration histogram hooks here. */
  readonly onRequest?: MaveraRequestObserver;
  readonly tuning?: FlushTuning;
}

export class ProfileKeyMismatchError extends Error {
  constructor(
    readonly recordKey: string,
    readonly messageKey: string,
  ) {
    super(`profile record key "${recordKey}" differs from its message key "${messageKey}"`);
    this.name = 'ProfileKeyMismatchError';
  }
}

export type FlushSink = 'registry' | 'dead_letters' | 'audit';

export interface FlushOptions {
  /**
   * Whether this process may still send, asked right before every request to Mavera (after any rate-limit wait).
   * Once it answers false the flush sends nothing more: the segments it has not settled are carried over, what it
   * did send is still written to the outputs, and the report says `lockLost`. The flusher role passes its lock's
   * `isLeader`, so that a replica that lost the lock mid-flush (a rebalance, a stall past the session timeout)
   * never sends alongside its successor.
   */
  readonly mayContinue?: () => boolean;
}

const LOCK_LOST_REASON = 'the flusher lock was lost: carried over to the next flush';

/** Thrown before a request when FlushOptions.mayContinue answered false; the flush turns it into `lockLost`. */
class LockLostError extends Error {
  constructor() {
    super('this process no longer holds the flusher lock: the flush sends nothing more');
    this.name = 'LockLostError';
  }
}

/** A sink rejected its batch. The batch is kept and written first by the next flush; `report` is this flush's. */
export class FlushOutputError extends Error {
  constructor(
    readonly sink: FlushSink,
    readonly report: FlushReport,
    cause: unknown,
  ) {
    super(`writing the flush's ${sink} records failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'FlushOutputError';
  }
}

interface SegmentPlan {
  readonly key: string;
  readonly subject: AuditSubject;
  readonly version: PersonaVersion;
  readonly decision: PersonaUpdateDecision;
  readonly stored: RegistryRecord | undefined;
}

type Target =
  | { readonly op: 'create' }
  | {
      readonly op: 'update';
      readonly personaId: string;
      /** What the persona holds, when known (the last sent payload). */
      readonly previous: MaveraPersonaPayload | undefined;
      readonly adopted: boolean;
    };

/** A create or update that failed retryably: retried by the next flush, its attempts still counted. */
interface PendingOperation {
  attempts: number;
}

const ACCOUNT_LEVEL_STATUSES = new Set([401, 402]);

function isAccountLevel(error: MaveraError): boolean {
  return error.status !== null && ACCOUNT_LEVEL_STATUSES.has(error.status);
}

function endpointOf(target: Target): MaveraEndpoint {
  return target.op === 'create' ? 'POST /personas' : 'PATCH /personas/{id}';
}

/**
 * The flusher's core without Kafka: profiles in (applyProfile), the registry restored (restoreRegistry), and on each
 * flush() the personas of every segment summary brought in line with Mavera.
 *
 * Per segment large enough for a persona (renderPersona, the same rules and payloads as `simulate`):
 * decidePersonaUpdate against the registry's last sent version; `none` → no call; `update` → PATCH; `create` → adopt
 * a persona of the same name when one exists (listed once before the first create of the process, and again after
 * a create whose outcome is unknown), else POST. Retryable failures are retried with backoff up to `maxAttempts`
 * per flush, then carried over to the next flush; a 4xx other than 429 is dead-lettered with Mavera's answer and that
 * exact payload is not sent again until it changes; 401/402 also stop the flush (nothing else can succeed).
 *
 * Dry run (MAVERA_DRY_RUN, or no MAVERA_API_KEY): no HTTP at all. Decisions are made against the registry of the
 * last real flush, which a dry run never advances, so a dry run shows exactly what a real flush would send now, and
 * nothing ("no changes") when nothing changed since the last real flush. Each would-be request becomes an audit
 * record (status dry_run, request_body); a request already reported by an earlier dry-run flush of this engine, with
 * the same content hash, is not reported again (its outcome is `unchanged`), so a continuous dry run shows changes
 * once rather than every interval.
 */
export class FlushEngine {
  readonly dryRun: boolean;
  private readonly index: SegmentIndex;
  private readonly families: ReadonlyMap<string, SegmentFamily>;
  private readonly policy: PersonaPolicy;
  private readonly outputs: FlushOutputs;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly retry: RetryPolicy;
  private readonly api: MaveraApi | null;
  private readonly createCredits: number;
  private readonly updateCredits: number;
  private readonly onRequest: MaveraRequestObserver | undefined;

  private readonly registry = new PersonaRegistryState();
  private readonly pending = new Map<string, PendingOperation>();
  /** segment → content hash Mavera refused with a 4xx. */
  private readonly rejected = new Map<string, string>();
  /** segment → persona adopted by name whose first PATCH has not succeeded yet. */
  private readonly adoptions = new Map<string, string>();
  /** segment → `operation:hash` last reported by a dry run. */
  private readonly dryRunReported = new Map<string, string>();
  private names: PersonaNameIndex | null = null;
  private namesStale = false;
  private listFailure: MaveraError | null = null;
  private report: FlushReportBuilder | null = null;
  /** FlushOptions.mayContinue of the running flush. */
  private mayContinue: (() => boolean) | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private unwrittenRegistry: PersonaRegistryEntry[] = [];
  private unwrittenDeadLetters: DeadLetter[] = [];
  private unwrittenAudit: PersonaUpdate[] = [];

  constructor(options: FlushEngineOptions) {
    const tuning = options.tuning ?? {};
    this.index = new SegmentIndex(options.config.segments);
    this.families = new Map(options.config.segments.map((family) => [family.name, family]));
    this.policy = options.config.personas;
    this.outputs = options.outputs;
    this.logger = options.logger ?? createLogger({ level: 'silent', name: 'flusher' });
    this.clock = options.clock ?? systemClock;
    this.onRequest = options.onRequest;
    this.createCredits = tuning.createCredits ?? CREATE_CREDITS;
    this.updateCredits = tuning.updateCredits ?? 0;
    this.retry = new RetryPolicy({
      ...(tuning.maxAttempts === undefined ? {} : { maxAttempts: tuning.maxAttempts }),
      ...(tuning.baseDelayMs === undefined ? {} : { baseDelayMs: tuning.baseDelayMs }),
      ...(tuning.maxDelayMs === undefined ? {} : { maxDelayMs: tuning.maxDelayMs }),
      ...(tuning.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: tuning.maxRetryAfterMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    const apiKey = options.mavera.apiKey;
    this.dryRun = options.mavera.dryRun || apiKey === undefined || apiKey === '';
    this.api =
      this.dryRun || apiKey === undefined
        ? null
        : new MaveraClient({
            apiKey,
            baseUrl: options.mavera.baseUrl,
            sandbox: options.mavera.sandbox,
            clock: this.clock,
            rateLimiter: new GuardedRateLimiter(
              {
                perMinute: options.mavera.rateLimitPerMin,
                clock: this.clock,
                ...(tuning.burst === undefined ? {} : { burst: tuning.burst }),
              },
              () => {
                if (this.mayContinue !== undefined && !this.mayContinue()) throw new LockLostError();
              },
            ),
            observer: (event) => {
              this.observeRequest(event);
            },
            ...(tuning.timeoutMs === undefined ? {} : { timeoutMs: tuning.timeoutMs }),
            ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
          });
  }

  /** Profiles that belong to at least one segment. */
  get memberCount(): number {
    return this.index.memberCount;
  }

  /** Segments whose create/update failed retryably and will be retried by the next flush, sorted. */
  get carriedOver(): string[] {
    return [...this.pending.keys()].sort();
  }

  /** The registry as this engine knows it (restored entries plus every successful send). */
  registryEntries(): PersonaRegistryEntry[] {
    return this.registry.entries();
  }

  /**
   * One record of the compacted profiles topic: an upsert, or a tombstone (null) removing `key` from every segment.
   * Takes effect at the next flush.
   */
  applyProfile(record: ProfileRecord | null, key: string): void {
    if (record === null) {
      this.index.remove(key);
      return;
    }
    if (record.key !== key) throw new ProfileKeyMismatchError(record.key, key);
    this.index.upsert(profileFromRecord(record));
  }

  /**
   * Entries of the personas topic, in topic order (a later entry for a segment replaces an earlier one). Call before
   * the first flush, and again whenever this process regains the flusher lock: another replica may have sent in
   * between, so the personas listed by name earlier are forgotten too (the next create lists them anew). An entry
   * whose stored payload or summary cannot be read makes its segment PATCH on the next flush.
   */
  restoreRegistry(entries: readonly PersonaRegistryEntry[]): void {
    this.names = null;
    for (const entry of entries) {
      this.registry.set(entry);
      if (this.registry.get(entry.segment_key)?.last === null) {
        this.logger.warn({ segment: entry.segment_key }, 'registry entry has an unreadable last payload or summary');
      }
    }
  }

  /** Brings every segment's persona in line with its summary as of now. Concurrent calls run one after another. */
  flush(now: EpochMs, options: FlushOptions = {}): Promise<FlushReport> {
    const run = this.running.then(() => this.run(now, options));
    this.running = run.catch(() => undefined);
    return run;
  }

  private observeRequest(event: MaveraRequestEvent): void {
    this.report?.countRequest(event);
    this.onRequest?.(event);
  }

  private async run(now: EpochMs, options: FlushOptions): Promise<FlushReport> {
    const report = new FlushReportBuilder(now, this.dryRun);
    this.report = report;
    this.listFailure = null;
    this.mayContinue = options.mayContinue;
    try {
      const plans = this.plan();
      report.segments = plans.length;
      for (const plan of plans) {
        try {
          await this.handle(plan, report);
        } catch (error) {
          if (!(error instanceof LockLostError)) throw error;
          report.lockLost = true;
          this.logger.warn({ segment: plan.key }, 'the flusher lock was lost mid-flush: sending nothing more');
          this.carryOverUnsent(plan, report, LOCK_LOST_REASON);
        }
      }
    } finally {
      this.report = null;
      this.mayContinue = undefined;
    }
    const finished = report.build(this.clock.now(), this.carriedOver);
    await this.writeOutputs(finished);
    this.logger.info(
      {
        result: finished.result,
        decisions: finished.decisions,
        carriedOver: finished.carriedOver.length,
        deadLettered: finished.deadLettered,
        dryRun: finished.dryRun,
      },
      'flush finished',
    );
    return finished;
  }

  private plan(): SegmentPlan[] {
    const plans: SegmentPlan[] = [];
    const live = new Set<string>();
    for (const summary of this.index.summaries()) {
      const family = this.families.get(summary.family);
      if (family === undefined) continue;
      const payload = renderPersona(family, summary, this.policy);
      if (payload === null) continue;
      const key = segmentKey(summary.family, summary.segment);
      live.add(key);
      const version: PersonaVersion = { payload, summary };
      const stored = this.registry.get(key);
      const decision: PersonaUpdateDecision =
        stored !== undefined && stored.last === null
          ? { action: 'update', reasons: ['registry entry has no readable last payload'], hash: contentHash(payload) }
          : decidePersonaUpdate(stored?.last ?? undefined, version, this.policy);
      plans.push({
        key,
        subject: { family: summary.family, segment: summary.segment, contentHash: decision.hash },
        version,
        decision,
        stored,
      });
    }
    // A segment that shrank below min_segment_size has nothing left to send.
    for (const key of [...this.pending.keys()]) if (!live.has(key)) this.pending.delete(key);
    return plans;
  }

  private async handle(plan: SegmentPlan, report: FlushReportBuilder): Promise<void> {
    const { decision, key, stored } = plan;
    if (decision.action === 'none') {
      this.pending.delete(key);
      this.dryRunReported.delete(key);
      this.settle(report, plan, 'unchanged', 'unchanged', stored?.entry.persona_id ?? null);
      return;
    }
    if (this.dryRun) {
      this.reportDryRun(plan, report);
      return;
    }
    if (this.rejected.get(key) === decision.hash) {
      report.suppressed++;
      this.settle(report, plan, 'suppressed', null, stored?.entry.persona_id ?? null);
      return;
    }
    if (report.aborted !== null || report.lockLost) {
      this.carryOverUnsent(
        plan,
        report,
        report.lockLost ? LOCK_LOST_REASON : 'flush aborted: carried over to the next flush',
      );
      return;
    }
    if (stored !== undefined) {
      await this.send(plan, report, {
        op: 'update',
        personaId: stored.entry.persona_id,
        previous: stored.last?.payload,
        adopted: false,
      });
      return;
    }
    const adoptedId = this.adoptions.get(key);
    if (adoptedId !== undefined) {
      await this.send(plan, report, { op: 'update', personaId: adoptedId, previous: undefined, adopted: true });
      return;
    }
    await this.createOrAdopt(plan, report);
  }

  /** A segment this flush does not send (aborted, or the lock lost): the next flush tries it again. */
  private carryOverUnsent(plan: SegmentPlan, report: FlushReportBuilder, reason: string): void {
    this.pending.set(plan.key, this.pending.get(plan.key) ?? { attempts: 0 });
    this.settle(report, plan, 'carried_over', 'failed', plan.stored?.entry.persona_id ?? null, [
      ...plan.decision.reasons,
      reason,
    ]);
  }

  private reportDryRun(plan: SegmentPlan, report: FlushReportBuilder): void {
    const { decision, key, stored } = plan;
    const operation = decision.action === 'create' ? 'create' : 'update';
    const signature = `${operation}:${decision.hash}`;
    const personaId = stored?.entry.persona_id ?? null;
    if (this.dryRunReported.get(key) === signature) {
      this.settle(report, plan, 'unchanged', 'unchanged', personaId, [
        ...decision.reasons,
        'already reported by an earlier dry run',
      ]);
      return;
    }
    this.dryRunReported.set(key, signature);
    const body =
      operation === 'create' ? plan.version.payload : updateBody(plan.version.payload, stored?.last?.payload);
    this.audit(plan, {
      operation,
      status: 'dry_run',
      personaId,
      httpStatus: null,
      attempt: 0,
      latencyMs: null,
      at: report.startedAt,
      reasons: decision.reasons,
      error: null,
      requestBody: JSON.stringify(body),
    });
    this.settle(report, plan, 'dry_run', operation === 'create' ? 'created' : 'updated', personaId);
  }

  private async createOrAdopt(plan: SegmentPlan, report: FlushReportBuilder): Promise<void> {
    const names = await this.personaNames(report);
    if (names instanceof MaveraError) {
      this.listFailed(plan, report, names);
      return;
    }
    const candidate = names.find(plan.version.payload.name, (id) => this.isClaimed(id));
    if (candidate === undefined) {
      await this.send(plan, report, { op: 'create' });
      return;
    }
    report.adopted++;
    const adoption = `adopted existing persona ${candidate.id} named "${candidate.name}"`;
    if (personaHasContent(candidate, plan.version.payload)) {
      const at = this.clock.now();
      this.remember(registryEntryFor(candidate.id, plan.version, plan.decision.hash, at), plan);
      this.audit(plan, {
        operation: 'none',
        status: 'sent',
        personaId: candidate.id,
        httpStatus: null,
        attempt: 0,
        latencyMs: null,
        at,
        reasons: [adoption, 'its content already matches'],
        error: null,
        requestBody: null,
      });
      this.settle(report, plan, 'adopted', 'unchanged', candidate.id, [adoption, 'its content already matches']);
      return;
    }
    this.adoptions.set(plan.key, candidate.id);
    await this.send(plan, report, { op: 'update', personaId: candidate.id, previous: undefined, adopted: true });
  }

  /** The custom personas by name, listed before the first create and again after a create of unknown outcome. */
  private async personaNames(report: FlushReportBuilder): Promise<PersonaNameIndex | MaveraError> {
    if (this.names !== null && !this.namesStale) return this.names;
    if (this.listFailure !== null) return this.listFailure;
    const api = this.requireApi();
    try {
      const personas = await withRetry(
        this.retry,
        (ms) => this.clock.sleep(ms),
        () => api.listPersonas(),
        {
          onRetry: () => {
            report.retries['GET /personas']++;
          },
        },
      );
      this.names = new PersonaNameIndex(personas);
      this.namesStale = false;
      return this.names;
    } catch (error) {
      if (!(error instanceof MaveraError)) throw error;
      this.listFailure = error;
      if (isAccountLevel(error)) report.aborted = { endpoint: error.endpoint, status: error.status, code: error.code };
      this.logger.warn({ err: error }, 'listing Mavera personas failed; creates wait for the next flush');
      return error;
    }
  }

  private listFailed(plan: SegmentPlan, report: FlushReportBuilder, error: MaveraError): void {
    const pending = this.pending.get(plan.key) ?? { attempts: 0 };
    this.pending.set(plan.key, pending);
    const reasons = [
      ...plan.decision.reasons,
      'existing personas could not be listed, so a create could duplicate one: carried over to the next flush',
    ];
    this.audit(plan, {
      operation: 'create',
      status: 'failed',
      personaId: null,
      httpStatus: error.status,
      attempt: pending.attempts,
      latencyMs: null,
      at: this.clock.now(),
      reasons,
      error: error.message,
      requestBody: null,
    });
    this.settle(report, plan, 'carried_over', 'failed', null, reasons);
  }

  private isClaimed(personaId: string): boolean {
    if (this.registry.isClaimed(personaId)) return true;
    for (const adopted of this.adoptions.values()) if (adopted === personaId) return true;
    return false;
  }

  private requireApi(): MaveraApi {
    if (this.api === null) throw new Error('no Mavera client in dry-run mode');
    return this.api;
  }

  private async send(plan: SegmentPlan, report: FlushReportBuilder, initial: Target): Promise<void> {
    const api = this.requireApi();
    const pending = this.pending.get(plan.key) ?? { attempts: 0 };
    let target = initial;
    for (let attemptInFlush = 1; ; attemptInFlush++) {
      if (target.op === 'create' && this.namesStale) {
        // An earlier create may have gone through although it failed for us: look before creating again.
        const names = await this.personaNames(report);
        if (names instanceof MaveraError) {
          this.listFailed(plan, report, names);
          return;
        }
        const candidate = names.find(plan.version.payload.name, (id) => this.isClaimed(id));
        if (candidate !== undefined) {
          report.adopted++;
          this.adoptions.set(plan.key, candidate.id);
          target = { op: 'update', personaId: candidate.id, previous: undefined, adopted: true };
        }
      }
      const body = target.op === 'create' ? plan.version.payload : updateBody(plan.version.payload, target.previous);
      const requestBody = JSON.stringify(body);
      if (!this.validBody(plan, report, target, body, requestBody)) return;
      const endpoint = endpointOf(target);
      const reasons =
        target.op === 'update' && target.adopted ? this.adoptionReasons(plan, target) : plan.decision.reasons;
      const startedAt = this.clock.now();
      try {
        const result =
          target.op === 'create' ? await api.createPersona(body) : await api.updatePersona(target.personaId, body);
        this.countAttempt(pending, report, endpoint);
        const at = this.clock.now();
        const personaId = target.op === 'create' ? result.persona.id : target.personaId;
        this.remember(registryEntryFor(personaId, plan.version, plan.decision.hash, at), plan);
        this.audit(plan, {
          operation: target.op,
          status: 'sent',
          personaId,
          httpStatus: result.httpStatus,
          attempt: pending.attempts,
          latencyMs: at - startedAt,
          at,
          reasons,
          error: null,
          requestBody: null,
        });
        report.creditsSpent +=
          target.op === 'create' ? (result.persona.credits_charged ?? this.createCredits) : this.updateCredits;
        this.settle(
          report,
          plan,
          target.op === 'create' ? 'created' : 'updated',
          target.op === 'create' ? 'created' : 'updated',
          personaId,
          reasons,
        );
        this.logger.info({ segment: plan.key, persona: personaId, operation: target.op }, 'persona sent to Mavera');
        return;
      } catch (error) {
        // LockLostError included: that request never left.
        if (!(error instanceof MaveraError)) throw error;
        this.countAttempt(pending, report, endpoint);
        const at = this.clock.now();
        if (target.op === 'create' && error.ambiguous) this.namesStale = true;
        const personaId = target.op === 'update' ? target.personaId : null;
        const failure: AuditFields = {
          operation: target.op,
          status: 'failed',
          personaId,
          httpStatus: error.status,
          attempt: pending.attempts,
          latencyMs: at - startedAt,
          at,
          reasons,
          error: error.message,
          requestBody: null,
        };
        const verdict = this.retry.verdict(error, attemptInFlush);
        if (verdict.retry) {
          this.audit(plan, { ...failure, status: 'retrying' });
          this.logger.warn({ err: error, segment: plan.key, delayMs: verdict.delayMs }, 'Mavera call failed; retrying');
          await this.clock.sleep(verdict.delayMs);
          continue;
        }
        if (verdict.reason === 'not_retryable') {
          this.deadLetter(plan, report, target, requestBody, error, failure);
          return;
        }
        this.pending.set(plan.key, pending);
        const carried = [...reasons, `${verdict.reason.replace(/_/g, ' ')}: carried over to the next flush`];
        this.audit(plan, { ...failure, status: 'failed', reasons: carried });
        this.settle(report, plan, 'carried_over', 'failed', personaId, carried);
        this.logger.warn({ err: error, segment: plan.key }, 'Mavera call failed; carried over to the next flush');
        return;
      }
    }
  }

  /** One more request of this create/update has gone out (a retry unless it is the first, in any flush). */
  private countAttempt(pending: PendingOperation, report: FlushReportBuilder, endpoint: MaveraEndpoint): void {
    pending.attempts++;
    if (pending.attempts > 1) report.retries[endpoint]++;
  }

  private adoptionReasons(plan: SegmentPlan, target: Extract<Target, { op: 'update' }>): string[] {
    return [
      `adopted existing persona ${target.personaId} named "${plan.version.payload.name}" (no registry entry)`,
      ...plan.decision.reasons,
    ];
  }

  /** Our own payload checks before any call; a payload that fails them is dead-lettered without calling Mavera. */
  private validBody(
    plan: SegmentPlan,
    report: FlushReportBuilder,
    target: Target,
    body: JsonObject,
    requestBody: string,
  ): boolean {
    const violations = validatePersonaPayload(body);
    if (violations.length === 0) return true;
    const message = violations.map((violation) => `${violation.path || '(payload)'}: ${violation.message}`).join('; ');
    const error = { endpoint: endpointOf(target), status: null, code: 'invalid_payload', body: null, message };
    const personaId = target.op === 'update' ? target.personaId : null;
    this.rejected.set(plan.key, plan.decision.hash);
    this.pending.delete(plan.key);
    this.unwrittenDeadLetters.push(maveraDeadLetter(plan.subject, requestBody, error, this.clock.now()));
    report.deadLettered++;
    this.audit(plan, {
      operation: target.op,
      status: 'dead_lettered',
      personaId,
      httpStatus: null,
      attempt: 0,
      latencyMs: null,
      at: this.clock.now(),
      reasons: plan.decision.reasons,
      error: `invalid payload: ${message}`,
      requestBody: null,
    });
    this.settle(report, plan, 'dead_lettered', 'failed', personaId);
    return false;
  }

  private deadLetter(
    plan: SegmentPlan,
    report: FlushReportBuilder,
    target: Target,
    requestBody: string,
    error: MaveraError,
    failure: AuditFields,
  ): void {
    this.unwrittenDeadLetters.push(maveraDeadLetter(plan.subject, requestBody, error, failure.at));
    report.deadLettered++;
    const reasons = [...failure.reasons];
    this.pending.delete(plan.key);
    if (isAccountLevel(error)) {
      // The account, not this payload, is the problem: stop here, and try this segment again next flush.
      report.aborted = { endpoint: error.endpoint, status: error.status, code: error.code };
      this.pending.set(plan.key, { attempts: 0 });
      reasons.push('account-level error: flush aborted, retried next flush');
    } else if (target.op === 'update' && error.status === 404) {
      // The persona is gone: forget it, so that the next flush adopts one by name or creates it again.
      this.registry.forget(plan.key);
      this.adoptions.delete(plan.key);
      this.namesStale = true;
      this.pending.set(plan.key, { attempts: 0 });
      reasons.push('persona not found: registry entry dropped, the next flush adopts or creates one');
    } else {
      this.rejected.set(plan.key, plan.decision.hash);
      if (target.op === 'update' && target.adopted) this.adoptions.delete(plan.key);
    }
    this.audit(plan, { ...failure, status: 'dead_lettered', reasons });
    this.settle(report, plan, 'dead_lettered', 'failed', failure.personaId, reasons);
    this.logger.error({ err: error, segment: plan.key }, 'Mavera refused the request; dead-lettered');
  }

  private remember(entry: PersonaRegistryEntry, plan: SegmentPlan): void {
    this.registry.set(entry, plan.version);
    this.unwrittenRegistry.push(entry);
    this.pending.delete(plan.key);
    this.rejected.delete(plan.key);
    this.adoptions.delete(plan.key);
  }

  private audit(plan: SegmentPlan, fields: AuditFields): void {
    this.unwrittenAudit.push(auditRecord(plan.subject, fields));
  }

  private settle(
    report: FlushReportBuilder,
    plan: SegmentPlan,
    result: SegmentResult,
    decision: FlushDecisionKind | null,
    personaId: string | null,
    reasons: readonly string[] = plan.decision.reasons,
  ): void {
    report.settle({ segmentKey: plan.key, action: plan.decision.action, result, personaId, reasons }, decision);
  }

  private async writeOutputs(report: FlushReport): Promise<void> {
    await this.writeSink('registry', report, this.unwrittenRegistry, (batch) => this.outputs.writeRegistry(batch));
    this.unwrittenRegistry = [];
    await this.writeSink('dead_letters', report, this.unwrittenDeadLetters, (batch) =>
      this.outputs.writeDeadLetters(batch),
    );
    this.unwrittenDeadLetters = [];
    await this.writeSink('audit', report, this.unwrittenAudit, (batch) => this.outputs.writeAudit(batch));
    this.unwrittenAudit = [];
  }

  private async writeSink<T>(
    sink: FlushSink,
    report: FlushReport,
    batch: readonly T[],
    write: (batch: readonly T[]) => Promise<void>,
  ): Promise<void> {
    if (batch.length === 0) return;
    try {
      await write(batch);
    } catch (error) {
      throw new FlushOutputError(sink, report, error);
    }
  }
}

import type { MaveraEndpoint } from '../adapters/mavera/mavera-error.js';
import { maveraEndpoints } from '../adapters/mavera/mavera-error.js';
import type { MaveraRequestEvent } from '../adapters/mavera/mavera-client.js';
import type { EpochMs } from '../domain/time.js';

/** The label values of persona_stream_flush_decisions_total. */
export type FlushDecisionKind = 'created' | 'updated' | 'unchanged' | 'failed';

/**
 * What happened to one segment in a flush:
 * - created / updated: Mavera accepted the call;
 * - adopted: a persona with the segment's name already existed and already had its content (no call);
 * - unchanged: nothing material changed since the last send (or a dry run already reported this request);
 * - dry_run: the request that would have been sent;
 * - carried_over: failed retryably (or the flush was aborted, or lost the flusher lock, first); the next flush tries
 *   again;
 * - dead_lettered: Mavera refused the request (4xx other than 429);
 * - suppressed: this exact payload was dead-lettered before; it is not sent again until it changes.
 */
export type SegmentResult =
  'created' | 'updated' | 'adopted' | 'unchanged' | 'dry_run' | 'carried_over' | 'dead_lettered' | 'suppressed';

export interface SegmentOutcome {
  /** `family/segment`. */
  readonly segmentKey: string;
  /** What decidePersonaUpdate asked for. */
  readonly action: 'create' | 'update' | 'none';
  readonly result: SegmentResult;
  readonly personaId: string | null;
  readonly reasons: readonly string[];
}

export interface RequestCount {
  readonly endpoint: MaveraEndpoint;
  /** HTTP status as text, or `timeout` / `network_error`. */
  readonly status: string;
  readonly count: number;
}

export interface FlushReport {
  readonly startedAt: EpochMs;
  readonly finishedAt: EpochMs;
  readonly dryRun: boolean;
  /**
   * ok: every segment settled; partial: some failed or were carried over; aborted: an account-level error (401/402)
   * or the loss of the flusher lock (`lockLost`) stopped the flush.
   */
  readonly result: 'ok' | 'partial' | 'aborted';
  /** Segments large enough for a persona (the ones decided on). */
  readonly segments: number;
  readonly decisions: Readonly<Record<FlushDecisionKind, number>>;
  /** Personas found by name and taken over (with or without a PATCH). */
  readonly adopted: number;
  readonly deadLettered: number;
  readonly suppressed: number;
  /** Segments to retry on the next flush, sorted. */
  readonly carriedOver: readonly string[];
  /** Every HTTP request of this flush (pages and retries included), sorted by endpoint then status. */
  readonly requests: readonly RequestCount[];
  /** Requests that repeated an earlier failed attempt of the same operation (in this flush or carried over). */
  readonly retries: Readonly<Record<MaveraEndpoint, number>>;
  /** 429 answers. */
  readonly rateLimited: number;
  /** 300 per created persona (or the `credits_charged` Mavera answered); updates as configured (default 0). */
  readonly creditsSpent: number;
  readonly aborted: { readonly endpoint: MaveraEndpoint; readonly status: number | null; readonly code: string } | null;
  /** This process lost the flusher lock mid-flush and stopped sending (FlushOptions.mayContinue). */
  readonly lockLost: boolean;
  /** One entry per decided segment, in summary order (family, then segment). */
  readonly outcomes: readonly SegmentOutcome[];
}

/** Accumulates one flush's counters. */
export class FlushReportBuilder {
  readonly decisions: Record<FlushDecisionKind, number> = { created: 0, updated: 0, unchanged: 0, failed: 0 };
  readonly retries = Object.fromEntries(maveraEndpoints.map((endpoint) => [endpoint, 0])) as Record<
    MaveraEndpoint,
    number
  >;
  readonly outcomes: SegmentOutcome[] = [];
  segments = 0;
  adopted = 0;
  deadLettered = 0;
  suppressed = 0;
  rateLimited = 0;
  creditsSpent = 0;
  aborted: FlushReport['aborted'] = null;
  lockLost = false;
  private readonly requests = new Map<string, RequestCount>();

  constructor(
    readonly startedAt: EpochMs,
    readonly dryRun: boolean,
  ) {}

  countRequest(event: MaveraRequestEvent): void {
    const key = `${event.endpoint}\u0000${event.status}`;
    const previous = this.requests.get(key);
    this.requests.set(key, { endpoint: event.endpoint, status: event.status, count: (previous?.count ?? 0) + 1 });
    if (event.status === '429') this.rateLimited++;
  }

  settle(outcome: SegmentOutcome, decision: FlushDecisionKind | null): void {
    this.outcomes.push(outcome);
    if (decision !== null) this.decisions[decision]++;
  }

  build(finishedAt: EpochMs, carriedOver: readonly string[]): FlushReport {
    const requests = [...this.requests.values()].sort(
      (a, b) => compare(a.endpoint, b.endpoint) || compare(a.status, b.status),
    );
    const result = this.aborted !== null || this.lockLost ? 'aborted' : this.decisions.failed > 0 ? 'partial' : 'ok';
    return {
      startedAt: this.startedAt,
      finishedAt,
      dryRun: this.dryRun,
      result,
      segments: this.segments,
      decisions: { ...this.decisions },
      adopted: this.adopted,
      deadLettered: this.deadLettered,
      suppressed: this.suppressed,
      carriedOver,
      requests,
      retries: { ...this.retries },
      rateLimited: this.rateLimited,
      creditsSpent: this.creditsSpent,
      aborted: this.aborted,
      lockLost: this.lockLost,
      outcomes: [...this.outcomes],
    };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

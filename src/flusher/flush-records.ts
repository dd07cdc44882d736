import type { MaveraError } from '../adapters/mavera/mavera-error.js';
import type { EpochMs } from '../domain/time.js';
import type { DeadLetter } from '../records/dead-letter.js';
import type { PersonaOperation, PersonaUpdate, PersonaUpdateStatus } from '../records/persona-update.js';
import { segmentKey } from '../records/record-fields.js';

/**
 * Source name on dead letters of Mavera requests. They come from no Kafka record, so `topic` names the sink instead
 * and `partition`/`offset` are 0/"0"; `value` is the request body, so the request can be inspected and re-sent.
 */
export const MAVERA_DEAD_LETTER_SOURCE = 'mavera.personas';

export interface AuditSubject {
  readonly family: string;
  readonly segment: string;
  readonly contentHash: string;
}

export interface AuditFields {
  readonly operation: PersonaOperation;
  readonly status: PersonaUpdateStatus;
  readonly personaId: string | null;
  readonly httpStatus: number | null;
  readonly attempt: number;
  readonly latencyMs: number | null;
  readonly at: EpochMs;
  readonly reasons: readonly string[];
  readonly error: string | null;
  readonly requestBody: string | null;
}

export function auditRecord(subject: AuditSubject, fields: AuditFields): PersonaUpdate {
  return {
    segment_key: segmentKey(subject.family, subject.segment),
    family: subject.family,
    segment: subject.segment,
    operation: fields.operation,
    status: fields.status,
    persona_id: fields.personaId,
    content_hash: subject.contentHash,
    http_status: fields.httpStatus,
    attempt: fields.attempt,
    latency_ms: fields.latencyMs === null ? null : Math.max(0, Math.round(fields.latencyMs)),
    at: fields.at,
    reasons: [...fields.reasons],
    error: fields.error,
    request_body: fields.requestBody,
  };
}

/** A request Mavera refused: the reason carries the endpoint, status and Mavera's response body verbatim. */
export function maveraDeadLetter(
  subject: AuditSubject,
  requestBody: string,
  error: Pick<MaveraError, 'endpoint' | 'status' | 'code' | 'body' | 'message'>,
  at: EpochMs,
): DeadLetter {
  const answer = error.body ?? error.message;
  return {
    topic: MAVERA_DEAD_LETTER_SOURCE,
    partition: 0,
    offset: '0',
    key: segmentKey(subject.family, subject.segment),
    reason: `${error.endpoint} → ${error.status ?? 'no answer'}: ${answer}`,
    error_code: error.code,
    value: Buffer.from(requestBody, 'utf8').toString('base64'),
    at,
  };
}

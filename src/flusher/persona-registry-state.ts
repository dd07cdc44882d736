import { z } from 'zod';
import { canonicalJson } from '../domain/personas/canonical-json.js';
import { maveraPersonaPayloadSchema, type MaveraPersonaPayload } from '../domain/personas/mavera-payload.js';
import type { PersonaVersion } from '../domain/personas/persona-update-decision.js';
import type { JsonObject } from '../domain/segment/model.js';
import type { SegmentSummary } from '../domain/segments/segment-summary.js';
import type { EpochMs } from '../domain/time.js';
import type { PersonaRegistryEntry } from '../records/persona-registry.js';
import { segmentKey } from '../records/record-fields.js';

/** A segment summary as the registry stores it (`last_summary`): the SegmentSummary fields, JSON. */
const storedSummarySchema = z.object({
  family: z.string(),
  segment: z.string(),
  label: z.string(),
  count: z.int().nonnegative(),
  sums: z.record(z.string(), z.number()),
  averages: z.record(z.string(), z.number().nullable()),
  top: z.record(z.string(), z.array(z.string())),
  sampleIds: z.array(z.string()),
});

export interface RegistryRecord {
  readonly entry: PersonaRegistryEntry;
  /** What was last sent; null when the stored payload or summary cannot be read (then the next flush PATCHes). */
  readonly last: PersonaVersion | null;
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function toPayload(parsed: z.output<typeof maveraPersonaPayloadSchema>): MaveraPersonaPayload {
  const { industry, key_differentiators: keyDifferentiators, pains, ...required } = parsed;
  return {
    ...required,
    ...(industry === undefined ? {} : { industry }),
    ...(keyDifferentiators === undefined ? {} : { key_differentiators: keyDifferentiators }),
    ...(pains === undefined ? {} : { pains }),
  };
}

/** The last sent version stored in a registry entry, or null when either JSON text is unreadable. */
export function readLastVersion(entry: PersonaRegistryEntry): PersonaVersion | null {
  const payload = maveraPersonaPayloadSchema.safeParse(parseJsonText(entry.last_payload));
  const summary = storedSummarySchema.safeParse(parseJsonText(entry.last_summary));
  if (!payload.success || !summary.success) return null;
  return { payload: toPayload(payload.data), summary: summary.data };
}

function summaryJson(summary: SegmentSummary): JsonObject {
  return {
    family: summary.family,
    segment: summary.segment,
    label: summary.label,
    count: summary.count,
    sums: summary.sums,
    averages: summary.averages,
    top: summary.top,
    sampleIds: summary.sampleIds,
  };
}

/** The registry entry recording that `version` was sent to (or found on) persona `personaId`. */
export function registryEntryFor(
  personaId: string,
  version: PersonaVersion,
  contentHash: string,
  sentAt: EpochMs,
): PersonaRegistryEntry {
  return {
    segment_key: segmentKey(version.summary.family, version.summary.segment),
    persona_id: personaId,
    content_hash: contentHash,
    last_sent_at: sentAt,
    last_payload: canonicalJson(version.payload),
    last_summary: canonicalJson(summaryJson(version.summary)),
  };
}

/** The flusher's in-memory copy of the compacted personas topic: segment → persona id and what was last sent. */
export class PersonaRegistryState {
  private readonly bySegment = new Map<string, RegistryRecord>();
  /** persona id → segment key, so that one persona is never adopted by two segments. */
  private readonly byPersona = new Map<string, string>();

  get size(): number {
    return this.bySegment.size;
  }

  get(segmentKeyValue: string): RegistryRecord | undefined {
    return this.bySegment.get(segmentKeyValue);
  }

  /** Whether some segment (configured or not) already maps to this persona. */
  isClaimed(personaId: string): boolean {
    return this.byPersona.has(personaId);
  }

  set(entry: PersonaRegistryEntry, last: PersonaVersion | null = readLastVersion(entry)): void {
    this.forget(entry.segment_key);
    this.bySegment.set(entry.segment_key, { entry, last });
    this.byPersona.set(entry.persona_id, entry.segment_key);
  }

  forget(segmentKeyValue: string): void {
    const previous = this.bySegment.get(segmentKeyValue);
    if (previous === undefined) return;
    this.bySegment.delete(segmentKeyValue);
    if (this.byPersona.get(previous.entry.persona_id) === segmentKeyValue)
      this.byPersona.delete(previous.entry.persona_id);
  }

  entries(): PersonaRegistryEntry[] {
    return [...this.bySegment.values()].map((record) => record.entry);
  }
}

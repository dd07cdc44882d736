import type { MaveraPersona } from '../adapters/mavera/mavera-schemas.js';
import type { MaveraPersonaPayload } from '../domain/personas/mavera-payload.js';

/** The payload fields the flusher owns on a persona (reference §2.3): what "same content" is judged on. */
const MANAGED_FIELDS = [
  'name',
  'description',
  'pipeline_type',
  'type',
  'industry',
  'key_differentiators',
  'pains',
] as const;

function createdAtMs(persona: MaveraPersona): number {
  const value = persona.created_at;
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return Number.POSITIVE_INFINITY;
}

function byAge(a: MaveraPersona, b: MaveraPersona): number {
  return createdAtMs(a) - createdAtMs(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Custom personas found in Mavera, by exact name, oldest first: the candidates a segment without a registry entry
 * adopts instead of creating a duplicate. Base personas (`is_custom: false`) are read-only and never adopted; an item
 * without `is_custom` is taken as custom (the flag is documented, but a missing flag should not cause a duplicate).
 * Oldest first, because the seed scripts created one duplicate per run and the first one is the one people know.
 */
export class PersonaNameIndex {
  private readonly byName = new Map<string, MaveraPersona[]>();

  constructor(personas: readonly MaveraPersona[]) {
    for (const persona of personas) {
      if (persona.is_custom === false) continue;
      const list = this.byName.get(persona.name);
      if (list === undefined) this.byName.set(persona.name, [persona]);
      else list.push(persona);
    }
    for (const list of this.byName.values()) list.sort(byAge);
  }

  /** The oldest persona named `name` that no segment has claimed yet. */
  find(name: string, isClaimed: (personaId: string) => boolean): MaveraPersona | undefined {
    return this.byName.get(name)?.find((persona) => !isClaimed(persona.id));
  }
}

const UNKNOWN = Symbol('unknown');

function remoteField(persona: MaveraPersona, field: string): unknown {
  if (Object.hasOwn(persona, field)) return persona[field];
  const details = persona.details;
  if (details !== null && details !== undefined && Object.hasOwn(details, field)) return details[field];
  return UNKNOWN;
}

/** null, '', [] and absence all mean "no value". */
function normalized(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'absent';
  if (Array.isArray(value) && value.length === 0) return 'absent';
  return JSON.stringify(value);
}

/**
 * Whether a persona found in Mavera already carries `payload`. A field Mavera did not return (the list shows no
 * `details`) cannot be confirmed, so a payload that sets it counts as different and is PATCHed.
 */
export function personaHasContent(persona: MaveraPersona, payload: MaveraPersonaPayload): boolean {
  const wanted: Readonly<Record<string, unknown>> = payload;
  return MANAGED_FIELDS.every((field) => {
    const remote = remoteField(persona, field);
    const local = wanted[field];
    if (remote === UNKNOWN) return local === undefined;
    return normalized(remote) === normalized(local);
  });
}

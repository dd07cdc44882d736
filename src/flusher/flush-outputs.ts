import type { DeadLetter } from '../records/dead-letter.js';
import type { PersonaRegistryEntry } from '../records/persona-registry.js';
import type { PersonaUpdate } from '../records/persona-update.js';

/**
 * Where a flush's results go (the personas, persona-updates and dlq topics in production). flush() awaits each
 * write before it resolves, in this order: registry, dead letters, audit; each is called only with a non-empty
 * batch. A write that rejects keeps its batch (and the later sinks' batches) for the next flush, which writes them
 * first; flush() then rejects with FlushOutputError.
 */
export interface FlushOutputs {
  /** Keyed by `segment_key`; the last entry of a key wins. */
  writeRegistry(entries: readonly PersonaRegistryEntry[]): Promise<void>;
  writeAudit(records: readonly PersonaUpdate[]): Promise<void>;
  writeDeadLetters(records: readonly DeadLetter[]): Promise<void>;
}

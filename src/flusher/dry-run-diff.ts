import type { PersonaUpdate } from '../records/persona-update.js';

/**
 * The text `replay --dry-run` (and the demo's dry-run sink) prints for a dry-run flush's audit records: one block
 * per would-be request, or `no changes` when there is none (nothing changed since the last real flush).
 */
export function formatDryRunDiff(records: readonly PersonaUpdate[]): string {
  const wouldSend = records.filter((record) => record.status === 'dry_run' && record.operation !== 'none');
  if (wouldSend.length === 0) return 'no changes\n';
  return wouldSend
    .map((record) => {
      const target = record.operation === 'update' && record.persona_id !== null ? ` → ${record.persona_id}` : '';
      return `${record.operation} ${record.segment_key}${target} (${record.reasons.join('; ')})\n  ${record.request_body ?? ''}\n`;
    })
    .join('');
}

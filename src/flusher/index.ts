export { formatDryRunDiff } from './dry-run-diff.js';
export {
  CREATE_CREDITS,
  FlushEngine,
  FlushOutputError,
  ProfileKeyMismatchError,
  type FlushEngineOptions,
  type FlushOptions,
  type FlushPipelineConfig,
  type FlushSink,
  type FlushTuning,
  type MaveraSinkSettings,
} from './flush-engine.js';
export type { FlushOutputs } from './flush-outputs.js';
export { MAVERA_DEAD_LETTER_SOURCE } from './flush-records.js';
export type { FlushDecisionKind, FlushReport, RequestCount, SegmentOutcome, SegmentResult } from './flush-report.js';

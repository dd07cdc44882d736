import { parseArgs } from 'node:util';
import { loadEnv } from '../../config/env.js';
import { createLogger } from '../../log/logger.js';
import { repairWatermark, type WatermarkRepairReport } from '../../processor/watermark-repair.js';
import { createRuntime } from '../../roles/runtime.js';
import { formatDuration } from '../../sources/event-time-bounds.js';
import { parseIsoTimestamp } from '../../sources/segment/iso-timestamp.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';

function parsePartition(value: string | undefined): number {
  if (value === undefined) throw new UsageError('--partition is required: the state partition to repair');
  if (!/^\d{1,6}$/.test(value)) throw new UsageError(`--partition expects a whole number, got "${value}"`);
  return Number(value);
}

/** `now` → undefined (the repair reads the clock); else an ISO-8601 instant. */
function parseTo(value: string | undefined): number | undefined {
  if (value === undefined) throw new UsageError('--to is required: now, or an ISO-8601 instant');
  if (value === 'now') return undefined;
  const at = parseIsoTimestamp(value);
  if (at === null) {
    throw new UsageError(`--to expects now or an ISO-8601 date-time such as 2026-01-31T00:00:00Z, got "${value}"`);
  }
  return at;
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        partition: { type: 'string' },
        to: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const partition = parsePartition(values.partition);
  const to = parseTo(values.to);
  const env = loadEnv(io.env);
  if (env.kafka.brokers === undefined) throw new Error('KAFKA_BROKERS is not set: the repair rewrites the changelog');
  const logger = createLogger({ level: env.logLevel, name: 'repair-watermark', destination: { write: io.stderr } });
  const runtime = await createRuntime(env, logger, { now: io.now });
  const report = await repairWatermark(
    {
      kafka: runtime.kafka,
      topics: runtime.topics,
      group: runtime.processorGroup,
      pipeline: runtime.pipeline,
      profileSerde: runtime.serdes.profile,
      now: runtime.now,
      maxEventTimeSkewMs: env.maxEventTimeSkewMs,
      idempotent: env.kafka.idempotent,
      logger,
    },
    { partition, to, dryRun: values['dry-run'] },
  );
  io.stdout(formatRepairReport(report, env.processor.stateGeneration, env.maxEventTimeSkewMs));
  return 0;
}

function iso(at: number | null): string {
  return at === null ? 'none' : new Date(at).toISOString();
}

/** What `repair-watermark` prints on stdout: what it found, what it wrote (or would), what is left to a replay. */
export function formatRepairReport(report: WatermarkRepairReport, generation: number, skewMs: number): string {
  const head = `repair-watermark --partition ${String(report.partition)}`;
  const where = `  changelog: ${report.changelog} partition ${String(report.partition)} (state generation ${String(generation)})`;
  if (report.outcome === 'nothing_to_repair') {
    return (
      `${head}: nothing to repair: the watermark (${iso(report.watermark)}) is not after ${iso(report.target)}\n` +
      `${where}\n`
    );
  }
  const would = report.dryRun ? 'would be ' : '';
  const positions = Object.entries(report.inputs ?? {})
    .map(([topic, offset]) => `${topic} ${offset}`)
    .join(', ');
  const lines = [
    report.dryRun ? `${head} --dry-run: nothing written` : `${head}: repaired`,
    where,
    `  watermark: ${iso(report.watermark)} → ${iso(report.target)}; input positions kept: ${positions || 'none recorded'}`,
    `  entities:  ${String(report.entities)} in the partition, ${String(report.entitiesRewritten)} ${would}rewritten`,
    `  profiles:  ${String(report.profilesRewritten)} ${would}rewritten at ${iso(report.target)} ` +
      `(${String(report.profilesJudgedAfter)} in ${report.profilesTopic} were judged after it)`,
    `  users:     ${String(report.usersRewound)} had rolling windows cut by the runaway watermark: their horizon ${would}moved ` +
      'back, so new events count in windows and are deduplicated again; the days it cut stay missing from windows ' +
      '(windowed traits undercount until those days leave the window) until a replay',
    `  events:    ${String(report.entitiesWithLaterEvents)} entities hold events after ${iso(report.target)} ` +
      '(the runaway events themselves): only a replay removes them, and it now dead-letters them',
  ];
  if (report.undecodableProfiles > 0) {
    lines.push(
      `  warning:   ${String(report.undecodableProfiles)} profile records could not be decoded (left as they are)`,
    );
  }
  if (report.groupState !== 'Empty' && report.groupState !== 'Dead') {
    lines.push(
      `  warning:   the processor group ${report.group} is ${report.groupState}: stop it before the real repair`,
    );
  }
  if (!report.dryRun) {
    lines.push(
      '',
      'Start the processors again: each restores the partition from the changelog and judges its profiles from',
      `${iso(report.target)} on. Records more than ${formatDuration(skewMs)} ahead of the clock are dead-lettered from now on.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const repairWatermarkCommand: Command = {
  name: 'repair-watermark',
  usage: 'repair-watermark --partition N --to now|<ISO-8601> [--dry-run]',
  summary: "move a state partition's watermark that ran ahead back, with the profiles it judged; processors stopped",
  run,
};

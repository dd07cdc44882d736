import { parseArgs } from 'node:util';
import { loadEnv } from '../../config/env.js';
import { createLogger } from '../../log/logger.js';
import { runReplay, type ReplayReport } from '../../roles/replay.js';
import type { ReplayFrom } from '../../roles/replay-ranges.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';

const PROGRESS_EVERY_MS = 5_000;

function parseFrom(value: string | undefined): ReplayFrom {
  if (value === undefined) throw new UsageError('--from is required: earliest, or an ISO-8601 instant');
  if (value === 'earliest') return { kind: 'earliest' };
  const at = Date.parse(value);
  if (!Number.isFinite(at) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new UsageError(
      `--from expects earliest or an ISO-8601 date-time such as 2026-01-31T00:00:00Z, got "${value}"`,
    );
  }
  return { kind: 'time', at };
}

function parseGeneration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,7}$/.test(value)) throw new UsageError(`--generation expects a whole number, got "${value}"`);
  return Number(value);
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        from: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        generation: { type: 'string' },
        'state-dir': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const from = parseFrom(values.from);
  const generation = parseGeneration(values.generation);
  const dryRun = values['dry-run'];
  if (dryRun && values['state-dir'] !== undefined) {
    throw new UsageError('--state-dir keeps a generation built for real: it does not go with --dry-run');
  }
  const env = loadEnv(io.env);
  if (env.kafka.brokers === undefined) throw new Error('KAFKA_BROKERS is not set: replay reads the event topics');
  const logger = createLogger({ level: env.logLevel, name: 'replay', destination: { write: io.stderr } });
  let lastProgress = io.now();
  const report = await runReplay(env, logger, {
    from,
    dryRun,
    ...(generation === undefined ? {} : { generation }),
    ...(values['state-dir'] === undefined ? {} : { stateDir: values['state-dir'] }),
    now: io.now,
    onProgress: (events, total) => {
      if (io.now() - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = io.now();
      const percent = total === 0 ? 100 : Math.floor((events * 100) / total);
      io.stderr(`replay: ${String(events)}/${String(total)} events (${String(percent)}%)\n`);
    },
  });
  io.stdout(formatReplayReport(report, values.from ?? 'earliest', env.processor.stateGeneration));
  return 0;
}

function iso(time: number | null): string {
  return time === null ? 'no event' : new Date(time).toISOString();
}

/** What `replay` prints on stdout: the rebuild in numbers, then the Mavera diff (dry run) or how to switch. */
export function formatReplayReport(report: ReplayReport, from: string, liveGeneration: number): string {
  const seconds = (report.durationMs / 1_000).toFixed(1);
  const lines = [
    report.dryRun
      ? `replay --from ${from} --dry-run: state generation ${String(report.generation)} rebuilt in a temporary store; nothing written`
      : `replay --from ${from}: state generation ${String(report.generation)} rebuilt`,
    `  events:    ${String(report.events)} read in ${seconds} s (${String(Math.round(report.eventsPerSecond))} events/s while reading), ` +
      `${String(report.deadLetters)} dead letters (already on the DLQ, not written again)`,
    `  state:     ${String(report.entities)} entities, as of ${iso(report.stateTime)}`,
    `  profiles:  ${String(report.profilesChanged)} ${report.dryRun ? 'would change' : 'changed (written)'} against the live table ` +
      `${report.profilesTopic} (${String(report.liveProfiles)} profiles); ` +
      `${String(report.liveProfilesNotRebuilt)} live profiles have no rebuilt entity (left as they are)`,
  ];
  if (from !== 'earliest') {
    lines.push(
      `  from:      the first record published at or after ${from} in each partition: earlier events are not in this state`,
    );
  }
  if (report.liveProfilesUndecodable > 0) {
    lines.push(`  warning:   ${String(report.liveProfilesUndecodable)} live profile records could not be decoded`);
  }
  if (report.mavera !== undefined) {
    lines.push(
      `Mavera, against the last real flush (${String(report.mavera.registryEntries)} personas in the registry; dry run, nothing sent):`,
      report.mavera.text.trimEnd(),
    );
    return `${lines.join('\n')}\n`;
  }
  const generation = String(report.generation);
  lines.push(
    `  changelog: ${report.changelog}${report.changelogTopic === 'created' ? ' (created)' : ''}; consumer group ${report.group} ` +
      'committed at the end of the replay',
  );
  if (report.stateDir !== null) lines.push(`  local state kept in ${report.stateDir}`);
  lines.push(
    '',
    `To switch the live processor to generation ${generation}:`,
    `  1. set STATE_GENERATION=${generation} on every processor (and \`all\`) and restart them: the group ${report.group}`,
    '     continues where the replay stopped, so events published since are processed then;',
    `  2. where STATE_DIR is set, point it at ${report.stateDir === null ? 'an empty directory' : `${report.stateDir} (built by this replay) or an empty one`}: ` +
      `a directory holding generation ${String(liveGeneration)}'s state must not be reused (unset, each generation has its own);`,
    `  3. once they run, generation ${String(liveGeneration)}'s changelog topic and consumer group can be deleted.`,
  );
  return `${lines.join('\n')}\n`;
}

export const replayCommand: Command = {
  name: 'replay',
  usage: 'replay --from earliest|<ISO-8601> [--dry-run] [--generation N] [--state-dir DIR]',
  summary:
    'rebuild state from the event topics into a fresh state generation; --dry-run prints what would change in Mavera',
  run,
};

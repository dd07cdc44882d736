import { parseArgs } from 'node:util';
import { loadPipelineConfig } from '../../config/pipeline-file.js';
import type { DomainInput } from '../../domain/pipeline/domain-input.js';
import { runOffline } from '../../domain/pipeline/offline-run.js';
import { createPipeline } from '../../domain/pipeline/pipeline.js';
import { decodeRawInput } from '../../sources/raw-input.js';
import { envValue, parseAtOption, UsageError } from '../cli-io.js';
import type { Command } from './command.js';
import { offlineReportJson, offlineReportText, type InputStats } from './offline-report.js';

/**
 * Reads NDJSON of raw Stripe events and Segment messages (a batch per line is fine). Invalid lines are reported with
 * their number and reason and skipped. A Segment message without any time of its own is stamped with `receivedAt`.
 */
export function decodeNdjson(text: string, receivedAt: number): { inputs: DomainInput[]; stats: InputStats } {
  const inputs: DomainInput[] = [];
  const errors: { line: number; reason: string }[] = [];
  let ignored = 0;
  let lines = 0;
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    lines++;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      errors.push({ line: index + 1, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    const decoded = decodeRawInput(raw, receivedAt);
    inputs.push(...decoded.inputs);
    ignored += decoded.ignored;
    for (const reason of decoded.errors) errors.push({ line: index + 1, reason });
  });
  return { inputs, stats: { lines, inputs: inputs.length, ignored, errors } };
}

export const simulateCommand: Command = {
  name: 'simulate',
  usage: 'simulate --events FILE.ndjson [--config FILE] [--at ISO-8601] [--json]',
  summary: 'run the domain core offline: profiles, segment summaries and the persona payloads that would be sent',
  run: async (args, io) => {
    const { values } = parseArgs({
      args: [...args],
      options: {
        events: { type: 'string' },
        config: { type: 'string' },
        at: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (values.events === undefined) throw new UsageError('--events FILE.ndjson is required (- reads stdin)');
    const at = parseAtOption(values.at);
    const config = await loadPipelineConfig(values.config, { reportingCurrency: envValue(io, 'REPORTING_CURRENCY') });
    const text = await io.readInput(values.events);
    const { inputs, stats } = decodeNdjson(text, io.now());
    const result = runOffline(createPipeline(config), inputs, at);
    io.stdout(values.json ? offlineReportJson(result, stats) : offlineReportText(result, stats));
    if (!values.json) for (const error of stats.errors) io.stderr(`line ${error.line}: ${error.reason}\n`);
    return 0;
  },
};

import { parseArgs } from 'node:util';
import { loadPipelineConfig } from '../../config/pipeline-file.js';
import { generateTraffic } from '../../demo/traffic-generator.js';
import { runOffline, type DomainInput } from '../../domain/pipeline/offline-run.js';
import { createPipeline } from '../../domain/pipeline/pipeline.js';
import { decodeRawInput } from '../../sources/raw-input.js';
import { envValue, UsageError } from '../cli-io.js';
import type { Command } from './command.js';
import { offlineReportText } from './offline-report.js';

const DEMO_START = Date.UTC(2026, 0, 1);

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`--${name} expects a whole number, got "${value}"`);
  return parsed;
}

export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo [--customers N] [--users N] [--months N] [--seed N]',
  summary: 'the embedded default: generated Stripe and Segment traffic through the core, personas as a dry run',
  run: async (args, io) => {
    const { values } = parseArgs({
      args: [...args],
      options: {
        customers: { type: 'string' },
        users: { type: 'string' },
        months: { type: 'string' },
        seed: { type: 'string' },
      },
    });
    const options = {
      seed: positiveInt('seed', values.seed, 42),
      customers: positiveInt('customers', values.customers, 2_000),
      users: positiveInt('users', values.users, 3_000),
      months: positiveInt('months', values.months, 6),
      start: DEMO_START,
    };
    const config = await loadPipelineConfig(envValue(io, 'PIPELINE_CONFIG'), {
      reportingCurrency: envValue(io, 'REPORTING_CURRENCY'),
    });
    const pipeline = createPipeline({ ...config, fx_rates: { eur: 1.08, jpy: 0.0067, ...config.fx_rates } });
    const started = io.now();
    io.stderr(
      `demo: generating ${options.customers} Stripe customers and ${options.users} Segment users over ${options.months} months (seed ${options.seed})\n`,
    );
    const traffic = generateTraffic(options);
    const inputs: DomainInput[] = [];
    const errors: { line: number; reason: string }[] = [];
    let ignored = 0;
    traffic.forEach((event, index) => {
      const decoded = decodeRawInput(event.raw, event.at);
      inputs.push(...decoded.inputs);
      ignored += decoded.ignored;
      for (const reason of decoded.errors) errors.push({ line: index + 1, reason });
    });
    io.stderr(`demo: ${traffic.length} events generated; running the domain core (dry run: nothing is sent)\n`);
    const result = runOffline(pipeline, inputs);
    io.stdout(offlineReportText(result, { lines: traffic.length, inputs: inputs.length, ignored, errors }));
    io.stderr(`demo: done in ${((io.now() - started) / 1000).toFixed(1)} s\n`);
    return errors.length === 0 ? 0 : 1;
  },
};

import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { formatRate } from './stats.js';
import { runReducerScenario } from './scenarios/reducer.js';
import { runStripeWebhookScenario } from './scenarios/stripe-webhook.js';

/**
 * `npm run bench [-- --quick] [--json] [--customers N] [--users N] [--runs N]`: prints one row per scenario with
 * medians of several runs and their spread. Figures, not pass/fail: goals are printed next to them.
 */
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    customers: { type: 'string' },
    users: { type: 'string' },
    months: { type: 'string' },
    runs: { type: 'string' },
    seed: { type: 'string' },
  },
});

function numberOption(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`expected a positive whole number, got "${value}"`);
  return parsed;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const quick = values.quick;
const reducer = runReducerScenario(
  {
    customers: numberOption(values.customers, quick ? 2_000 : 50_000),
    users: numberOption(values.users, quick ? 2_000 : 50_000),
    months: numberOption(values.months, 6),
    runs: numberOption(values.runs, quick ? 2 : 3),
    seed: numberOption(values.seed, 1),
  },
  log,
);

const webhook = await runStripeWebhookScenario({ requests: quick ? 1_000 : 10_000, concurrency: 16 }, log);

if (values.json) {
  process.stdout.write(`${JSON.stringify({ machine: machineDescription(), results: [reducer, webhook] }, null, 2)}\n`);
} else {
  const apply = reducer.applyEventsPerSecond;
  process.stdout.write(
    [
      `machine: ${machineDescription()}`,
      '',
      '| scenario | figure | median | spread (min–max, rsd) | goal | ratio to goal |',
      '|---|---|---|---|---|---|',
      `| reducer | events applied/s, one core (${reducer.events} events, ${reducer.entities} entities) | ${formatRate(apply.median)} | ${formatRate(apply.min)}–${formatRate(apply.max)}, ${(apply.rsd * 100).toFixed(1)}% over ${apply.runs} runs | ≥ 500k/s | ${(apply.median / reducer.goals.eventsPerSecond).toFixed(2)} |`,
      `| reducer | retained state bytes per entity (customers / users) | ${reducer.bytesPerEntity.toFixed(0)} B (${reducer.bytesPerCustomer.toFixed(0)} / ${reducer.bytesPerUser.toFixed(0)}) | heap delta after GC | ≤ 1024 B | ${(reducer.goals.bytesPerEntity / reducer.bytesPerEntity).toFixed(2)} |`,
      `| reducer | profiles derived/s | ${formatRate(reducer.deriveProfilesPerSecond.median)} | ${formatRate(reducer.deriveProfilesPerSecond.min)}–${formatRate(reducer.deriveProfilesPerSecond.max)} | — | — |`,
      `| parse | raw vendor JSON decoded/s (zod) | ${formatRate(reducer.parseEventsPerSecond)} | one pass | — | — |`,
      `| stripe-webhook | signed webhooks accepted/s with broker ack (${String(webhook.requests)} requests, ${String(webhook.concurrency)} in flight, ${String(webhook.non200)} not 200) | ${formatRate(webhook.requestsPerSecond)} | p50 ${webhook.p50Ms.toFixed(1)} ms, p99 ${webhook.p99Ms.toFixed(1)} ms | — | — |`,
      '',
    ].join('\n'),
  );
}

function machineDescription(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  const memoryGiB = (totalmem() / 2 ** 30).toFixed(0);
  return `node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} × ${cpu}, ${memoryGiB} GiB`;
}

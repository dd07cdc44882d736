import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { describeMachine } from './machine.js';
import { benchCluster, type BenchCluster } from './kafka/bench-cluster.js';
import type { BrokerIdentity } from './kafka/broker-identity.js';
import { BENCH_USAGE, BenchUsageError, parseBenchOptions, type BenchOptions } from './options.js';
import {
  formatComparison,
  formatTable,
  onBroker,
  type BrokerReport,
  type ScenarioName,
  type ScenarioReport,
} from './report.js';
import { appendResult } from './results-file.js';
import { runFlushScenario } from './scenarios/flush.js';
import { runProcessorScenario } from './scenarios/processor.js';
import { runReducerScenario } from './scenarios/reducer.js';
import { runRestoreScenario } from './scenarios/restore.js';
import { runWebhookScenario } from './scenarios/webhooks.js';

/**
 * `npm run bench [-- flags]`: the scenarios of issue #6, each a table row (or a few) with the median of several runs,
 * their spread and the goal, on stdout; `--json` prints one machine-readable record instead. Progress goes to
 * stderr. Figures, not pass/fail: the exit code is 0 unless a scenario could not run.
 */
async function main(args: readonly string[]): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseBenchOptions(args, process.env);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${BENCH_USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  const machine = describeMachine();
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const log = (line: string) => {
    process.stderr.write(`[${((performance.now() - started) / 1_000).toFixed(0).padStart(4)} s] ${line}\n`);
  };
  log(`${machine.description}; load average ${machine.loadAverageAtStart.toFixed(2)}`);

  const reports: BrokerReport[] = [];
  const failures: { scenario: string; broker: string | null; error: string }[] = [];
  const selected = new Set<ScenarioName>(options.scenarios);
  const attempt = async (
    names: readonly ScenarioName[],
    broker: BrokerIdentity | null,
    run: () => Promise<readonly ScenarioReport[]>,
  ) => {
    if (!names.some((name) => selected.has(name))) return;
    const label = `${names.join(' + ')}${broker === null ? '' : ` on ${broker.name}`}`;
    const scenarioStarted = performance.now();
    const loadAtStart = loadavg()[0] ?? 0;
    try {
      const measured = (await run()).filter((report) => selected.has(report.scenario));
      const loadAverage = { start: loadAtStart, end: loadavg()[0] ?? 0 };
      reports.push(...measured.map((report) => onBroker(report, broker, loadAverage)));
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push({ scenario: names.join('+'), broker: broker?.name ?? null, error: message });
      log(`${label} FAILED: ${message}`);
    }
    log(`${label}: ${((performance.now() - scenarioStarted) / 1_000).toFixed(0)} s`);
  };
  const clusters = options.brokers.map((target) => benchCluster(target, log));
  // Scenario by scenario, each on every broker in turn: a machine that is slower for a while moves both columns.
  const onEachBroker = async (
    names: readonly ScenarioName[],
    run: (cluster: BenchCluster) => Promise<readonly ScenarioReport[]>,
  ) => {
    for (const cluster of clusters) await attempt(names, cluster.identity, () => run(cluster));
  };

  try {
    await attempt(['reducer'], null, () => Promise.resolve([runReducerScenario(options.reducer, log)]));
    await onEachBroker(['processor', 'replay'], async (cluster) => {
      const { processor, replay } = await runProcessorScenario(options.processor, cluster, log);
      return [processor, replay];
    });
    await onEachBroker(['restore'], async (cluster) => [await runRestoreScenario(options.restore, cluster, log)]);
    await onEachBroker(['flush'], async (cluster) => [await runFlushScenario(options.flush, cluster, log)]);
    await onEachBroker(['webhooks'], async (cluster) => [await runWebhookScenario(options.webhooks, cluster, log)]);
  } finally {
    for (const cluster of clusters) await cluster.close();
  }

  const record = {
    startedAt,
    durationSeconds: (performance.now() - started) / 1_000,
    machine: { ...machine, loadAverageAtEnd: loadavg()[0] ?? 0 },
    brokers: clusters.map((cluster) => ({ ...cluster.identity, setup: cluster.setup })),
    options,
    scenarios: reports,
    failures,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
  } else {
    const rows = reports.flatMap((report) => report.rows);
    const brokers = clusters.map((cluster) => `${cluster.identity.name} (${cluster.setup})`).join('; ');
    const unbrokered = rows.filter((row) => row.broker === null);
    const tables =
      clusters.length === 1
        ? formatTable(rows)
        : `${unbrokered.length > 0 ? `${formatTable(unbrokered)}\n` : ''}${formatComparison(
            rows.filter((row) => row.broker !== null),
            clusters.map((cluster) => cluster.identity),
          )}`;
    process.stdout.write(
      `machine: ${machine.description}\nload average (1 min) at start ${machine.loadAverageAtStart.toFixed(2)}, at end ${record.machine.loadAverageAtEnd.toFixed(2)}; ${record.durationSeconds.toFixed(0)} s\nKafka scenarios on: ${brokers}\n\n${tables}`,
    );
  }
  if (options.save) log(`saved to ${appendResult(record)}`);
  return failures.length === 0 ? 0 : 1;
}

const code = await main(process.argv.slice(2));
// Whatever a client library still holds open must not keep a finished bench alive.
process.exit(code);

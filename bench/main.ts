import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { describeMachine } from './machine.js';
import { BENCH_USAGE, BenchUsageError, parseBenchOptions, type BenchOptions } from './options.js';
import { formatTable, type ScenarioName, type ScenarioReport } from './report.js';
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

  const reports: ScenarioReport[] = [];
  const failures: { scenario: string; error: string }[] = [];
  const selected = new Set<ScenarioName>(options.scenarios);
  const attempt = async (names: readonly ScenarioName[], run: () => Promise<readonly ScenarioReport[]>) => {
    if (!names.some((name) => selected.has(name))) return;
    const scenarioStarted = performance.now();
    try {
      reports.push(...(await run()).filter((report) => selected.has(report.scenario)));
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push({ scenario: names.join('+'), error: message });
      log(`${names.join(' + ')} FAILED: ${message}`);
    }
    log(`${names.join(' + ')}: ${((performance.now() - scenarioStarted) / 1_000).toFixed(0)} s`);
  };

  await attempt(['reducer'], () => Promise.resolve([runReducerScenario(options.reducer, log)]));
  await attempt(['processor', 'replay'], async () => {
    const { processor, replay } = await runProcessorScenario(options.processor, log);
    return [processor, replay];
  });
  await attempt(['restore'], async () => [await runRestoreScenario(options.restore, log)]);
  await attempt(['flush'], async () => [await runFlushScenario(options.flush, log)]);
  await attempt(['webhooks'], async () => [await runWebhookScenario(options.webhooks, log)]);

  const record = {
    startedAt,
    durationSeconds: (performance.now() - started) / 1_000,
    machine: { ...machine, loadAverageAtEnd: loadavg()[0] ?? 0 },
    options,
    scenarios: reports,
    failures,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
  } else {
    process.stdout.write(
      `machine: ${machine.description}\nload average (1 min) at start ${machine.loadAverageAtStart.toFixed(2)}, at end ${record.machine.loadAverageAtEnd.toFixed(2)}; ${record.durationSeconds.toFixed(0)} s\n\n${formatTable(reports.flatMap((report) => report.rows))}`,
    );
  }
  if (options.save) log(`saved to ${appendResult(record)}`);
  return failures.length === 0 ? 0 : 1;
}

const code = await main(process.argv.slice(2));
// Whatever a client library still holds open must not keep a finished bench alive.
process.exit(code);

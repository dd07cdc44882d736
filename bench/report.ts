import type { BrokerIdentity } from './kafka/broker-identity.js';

/** The scenarios of issue #6 (1 reducer + state codec, 2 processor, 3 replay, 4 restore, 5 flush, 6 webhooks). */
export const scenarioNames = ['reducer', 'processor', 'replay', 'restore', 'flush', 'webhooks'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/** A goal from the issue, judged against a row's median. */
export interface Goal {
  /** As printed: `≥ 500k/s`, `≤ 60 s`. */
  readonly text: string;
  readonly met: boolean;
  /** How far past (> 1) or short of (< 1) the goal the median is, oriented so that bigger is better. */
  readonly margin: number;
}

/** One table row: a figure, its median over the runs and their spread. */
export interface Row {
  readonly scenario: ScenarioName;
  readonly figure: string;
  /** The median (or the one measured value), in `unit`. */
  readonly value: number;
  readonly unit: string;
  /** `value` formatted for the table. */
  readonly median: string;
  /** min–max and relative standard deviation over the runs, or how the figure was taken. */
  readonly spread: string;
  readonly goal: Goal | null;
}

/** What a scenario hands back: its table rows and its raw figures (the `--json` record). */
export interface ScenarioReport {
  readonly scenario: ScenarioName;
  readonly rows: readonly Row[];
  readonly details: object;
}

export function atLeast(value: number, goal: number, format: (value: number) => string): Goal {
  return {
    text: `≥ ${format(goal)}`,
    met: value >= goal,
    margin: goal === 0 ? Number.POSITIVE_INFINITY : value / goal,
  };
}

export function atMost(value: number, goal: number, format: (value: number) => string): Goal {
  return {
    text: `≤ ${format(goal)}`,
    met: value <= goal,
    margin: value === 0 ? Number.POSITIVE_INFINITY : goal / value,
  };
}

/** A scenario's report as the record keeps it: each row says which broker it was measured on (none: the reducer). */
export interface BrokerReport extends ScenarioReport {
  readonly broker: BrokerIdentity | null;
  readonly rows: readonly BrokerRow[];
  /** 1-minute load average when the scenario started and ended: what else the machine was doing meanwhile. */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

export interface BrokerRow extends Row {
  readonly broker: BrokerIdentity | null;
}

export function onBroker(
  report: ScenarioReport,
  broker: BrokerIdentity | null,
  loadAverage: BrokerReport['loadAverage'],
): BrokerReport {
  return { ...report, broker, rows: report.rows.map((row) => ({ ...row, broker })), loadAverage };
}

/** The rows as a Markdown table: the format the README and the issue quote. */
export function formatTable(rows: readonly BrokerRow[]): string {
  const lines = [
    '| scenario | figure | broker | median | spread | goal | met (margin) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${row.figure} | ${row.broker?.name ?? '—'} | ${row.median} | ${row.spread} | ${row.goal?.text ?? '—'} | ${verdict(row)} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * `--broker both`: each Kafka figure once, with the median, spread and verdict of every broker side by side. Rows
 * pair up by scenario and figure, whose labels leave out what differs by broker (partition counts, call counts).
 */
export function formatComparison(rows: readonly BrokerRow[], brokers: readonly BrokerIdentity[]): string {
  const figures = new Map<string, Map<string, BrokerRow>>();
  for (const row of rows) {
    const key = `${row.scenario}\u0000${row.figure}`;
    const byBroker = figures.get(key) ?? new Map<string, BrokerRow>();
    figures.set(key, byBroker);
    byBroker.set(row.broker?.name ?? '', row);
  }
  const header = brokers.map((broker) => `${broker.name}: median | spread | met`).join(' | ');
  const lines = [
    `| scenario | figure | goal | ${header} |`,
    `|---|---|---|${brokers.map(() => '---|---|---|').join('')}`,
    ...[...figures.values()].map((byBroker) => {
      const [first] = [...byBroker.values()] as [BrokerRow];
      // A goal can depend on the run (the flush's call bound): then each verdict names its own.
      const goals = new Set([...byBroker.values()].map((row) => row.goal?.text ?? '—'));
      const shared = goals.size === 1;
      const cells = brokers.map((broker) => {
        const row = byBroker.get(broker.name);
        if (row === undefined) return 'not measured | | ';
        const own = shared || row.goal === null ? '' : `, ${row.goal.text}`;
        return `${row.median} | ${row.spread} | ${verdict(row)}${own}`;
      });
      return `| ${first.scenario} | ${first.figure} | ${shared ? (first.goal?.text ?? '—') : 'see each'} | ${cells.join(' | ')} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

function verdict(row: Row): string {
  return row.goal === null ? '—' : `${row.goal.met ? 'yes' : 'NO'} (${formatMargin(row.goal.margin)})`;
}

function formatMargin(margin: number): string {
  return Number.isFinite(margin) ? `${margin.toFixed(2)}×` : '∞';
}

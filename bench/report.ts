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

/** The rows as a Markdown table: the format the README and the issue quote. */
export function formatTable(rows: readonly Row[]): string {
  const lines = [
    '| scenario | figure | median | spread | goal | met (margin) |',
    '|---|---|---|---|---|---|',
    ...rows.map((row) => {
      const verdict = row.goal === null ? '—' : `${row.goal.met ? 'yes' : 'NO'} (${formatMargin(row.goal.margin)})`;
      return `| ${row.scenario} | ${row.figure} | ${row.median} | ${row.spread} | ${row.goal?.text ?? '—'} | ${verdict} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

function formatMargin(margin: number): string {
  return Number.isFinite(margin) ? `${margin.toFixed(2)}×` : '∞';
}

import { parseArgs } from 'node:util';
import { parseAtOption, UsageError } from '../cli-io.js';
import type { Command } from './command.js';
import { explainMrr, formatExplainMrrText } from './explain-mrr.js';

export const explainMrrCommand: Command = {
  name: 'explain-mrr',
  usage: 'explain-mrr FILE|- [--at ISO-8601] [--json]',
  summary: 'MRR of a Stripe subscription (or customer with subscriptions), item by item with the rule applied',
  run: async (args, io) => {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { at: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const source = positionals[0];
    if (source === undefined || positionals.length > 1) throw new UsageError('give one file, or - for stdin');
    const text = await io.readInput(source);
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${source} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    const report = explainMrr(input, { at: parseAtOption(values.at) ?? io.now() });
    io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatExplainMrrText(report));
    return 0;
  },
};

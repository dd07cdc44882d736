import { parseArgs } from 'node:util';
import { DEFAULT_DEMO_SIZES, type DemoSizes } from '../../demo/demo-sizes.js';
import { runPublishOnly } from '../../demo/publish-only.js';
import { runDemo } from '../../demo/run-demo.js';
import { UsageError } from '../cli-io.js';
import type { Command } from './command.js';

function wholeNumber(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw new UsageError(`--${name} expects a whole number ≥ ${String(min)}, got "${value}"`);
  }
  return parsed;
}

/** The sizes of the generated traffic from the command line; the defaults keep `npm start` under a minute. */
function demoSizes(values: {
  readonly customers?: string | undefined;
  readonly users?: string | undefined;
  readonly months?: string | undefined;
  readonly seed?: string | undefined;
}): DemoSizes {
  const sizes = {
    seed: wholeNumber('seed', values.seed, DEFAULT_DEMO_SIZES.seed, 0),
    customers: wholeNumber('customers', values.customers, DEFAULT_DEMO_SIZES.customers, 0),
    users: wholeNumber('users', values.users, DEFAULT_DEMO_SIZES.users, 0),
    months: wholeNumber('months', values.months, DEFAULT_DEMO_SIZES.months, 1),
  };
  if (sizes.customers + sizes.users === 0) throw new UsageError('--customers and --users cannot both be 0');
  return sizes;
}

function parsedArgs(args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      options: {
        customers: { type: 'string' },
        users: { type: 'string' },
        months: { type: 'string' },
        seed: { type: 'string' },
        'publish-only': { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    // node:util names the unknown or malformed option; said with the usage, exit 2.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo [--customers N] [--users N] [--months N] [--seed N] [--publish-only]',
  summary:
    'the embedded default: local broker, generated Stripe/Segment traffic through every role, personas as a dry run',
  run: async (args, io) => {
    const { values } = parsedArgs(args);
    const sizes = demoSizes(values);
    return values['publish-only'] ? runPublishOnly(io, sizes) : runDemo(io, sizes);
  },
};

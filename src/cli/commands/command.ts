import type { CliIo } from '../cli-io.js';

export interface Command {
  readonly name: string;
  /** Synopsis after `persona-stream `, e.g. `simulate --events FILE.ndjson [--json]`. */
  readonly usage: string;
  readonly summary: string;
  readonly run: (args: readonly string[], io: CliIo) => Promise<number>;
}

import { readFile } from 'node:fs/promises';

/** The process edges a command touches, injectable so tests can run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readInput: (pathOrDash: string) => Promise<string>;
  readonly now: () => number;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export async function readInputFromProcess(pathOrDash: string): Promise<string> {
  if (pathOrDash !== '-') return readFile(pathOrDash, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readInput: readInputFromProcess,
    now: () => Date.now(),
    env: process.env,
  };
}

/** A wrong invocation: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses `--at`: an ISO-8601 instant. */
export function parseAtOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  if (!Number.isFinite(at) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(`--at expects an ISO-8601 date-time such as 2026-01-31T00:00:00Z, got "${value}"`);
  }
  return at;
}

/** An environment variable's value; blank counts as unset (as in src/config/env.ts). */
export function envValue(io: CliIo, name: string): string | undefined {
  const value = io.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

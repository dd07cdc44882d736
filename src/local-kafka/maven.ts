import { spawn } from 'node:child_process';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Local infrastructure (a JVM, Maven, a resolved artifact) cannot be had here; the message says what is missing. */
export class LocalInfrastructureUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalInfrastructureUnavailableError';
  }
}

export interface CommandResult {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a command to completion, keeping the tail of its combined output for error messages. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (error) => {
      reject(new LocalInfrastructureUnavailableError(`cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code) => {
      resolve({ code, output });
    });
  });
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Fills `target` once: `fill` writes into a fresh temporary sibling folder, which is then renamed into place, so a
 * concurrent or interrupted resolve never leaves a half-filled cache behind. Returns whether it had to fill.
 */
export async function fillOnce(target: string, fill: (partial: string) => Promise<void>): Promise<boolean> {
  if (await pathExists(target)) return false;
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.${String(process.pid)}.${Date.now().toString(36)}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    await fill(partial);
    try {
      await rename(partial, target);
    } catch (error) {
      // Another process filled it first: theirs is as good as ours.
      if (!(await pathExists(target))) throw error;
    }
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return true;
}

/** Runs Maven in batch mode; a missing `mvn` or a failed build is a LocalInfrastructureUnavailableError. */
export async function runMaven(args: readonly string[], cwd: string): Promise<void> {
  const maven = process.env['MAVEN_CMD']?.trim() || 'mvn';
  let result: CommandResult;
  try {
    result = await runCommand(maven, ['-B', '-q', ...args], { cwd });
  } catch (error) {
    throw new LocalInfrastructureUnavailableError(
      `Maven (${maven}) is not available: install it (apt-get install -y maven) or set MAVEN_CMD`,
      { cause: error },
    );
  }
  if (result.code !== 0) {
    throw new LocalInfrastructureUnavailableError(
      `Maven failed (exit ${String(result.code)}) running ${args.join(' ')}:\n${result.output.trim()}`,
    );
  }
}

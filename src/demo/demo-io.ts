/** The process edges the demo touches (a CliIo fits). */
export interface DemoIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => number;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** An environment variable's value; blank counts as unset (as in src/config/env.ts). */
export function given(env: DemoIo['env'], name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

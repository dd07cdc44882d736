import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readRepoFile } from './deploy-facts.js';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Dockerfile instructions in order: comments dropped, continuation lines joined. */
function instructions(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    const continued = /\\\s*$/.test(line);
    current += (current === '' ? '' : ' ') + line.replace(/\\\s*$/, '').trim();
    if (!continued) {
      if (current.trim() !== '') logical.push(current.trim());
      current = '';
    }
  }
  return logical.map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
}

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly body: Instruction[];
}

function stages(all: readonly Instruction[]): Stage[] {
  const result: { from: string; name: string | undefined; body: Instruction[] }[] = [];
  for (const instruction of all) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      result.push({ from: image, name: as?.toUpperCase() === 'AS' ? name : undefined, body: [] });
    } else {
      result.at(-1)?.body.push(instruction);
    }
  }
  return result;
}

const dockerfile = instructions(readRepoFile('Dockerfile'));
const [build, runtime] = stages(dockerfile);
const packageJson = JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> };

function argsOf(stage: Stage | undefined, keyword: string): string[] {
  return (stage?.body ?? []).filter((instruction) => instruction.keyword === keyword).map(({ args }) => args);
}

/** `ENV A=1 B=2` lines → { A: '1', B: '2' } (the only ENV form the Dockerfile uses). */
function envOf(stage: Stage | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of argsOf(stage, 'ENV')) {
    for (const [, name = '', value = ''] of line.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[name] = value;
  }
  return env;
}

describe('the Dockerfile', () => {
  it('is multi-stage: a build stage and a runtime stage, both on node:24-bookworm-slim', () => {
    expect(dockerfile.filter(({ keyword }) => keyword === 'FROM')).toHaveLength(2);
    expect(dockerfile[0]).toEqual({ keyword: 'ARG', args: 'NODE_IMAGE=node:24-bookworm-slim' });
    expect(build).toMatchObject({ from: '${NODE_IMAGE}', name: 'build' });
    expect(runtime).toMatchObject({ from: '${NODE_IMAGE}', name: 'runtime' });
  });

  it('installs, builds and then drops the dev dependencies in the build stage', () => {
    const runs = argsOf(build, 'RUN');
    const at = (pattern: RegExp) => runs.findIndex((run) => pattern.test(run));
    expect(at(/\bnpm ci\b/)).toBeGreaterThanOrEqual(0);
    expect(at(/\bnpm run build\b/)).toBeGreaterThan(at(/\bnpm ci\b/));
    expect(at(/\bnpm prune --omit=dev\b/)).toBeGreaterThan(at(/\bnpm run build\b/));
  });

  it('copies into the build stage everything tsconfig.build.json compiles', () => {
    const tsconfig = JSON.parse(readRepoFile('tsconfig.build.json')) as { include: string[] };
    const copied = argsOf(build, 'COPY').flatMap((args) => args.split(/\s+/).slice(0, -1));
    for (const folder of tsconfig.include) expect(copied).toContain(folder);
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'schemas']));
  });

  it('ships only the compiled code, schemas, production node_modules and package.json', () => {
    const copies = argsOf(runtime, 'COPY').map((args) => args.split(/\s+/).filter((word) => !word.startsWith('--')));
    expect(argsOf(runtime, 'COPY').every((args) => args.includes('--from=build'))).toBe(true);
    expect(copies.map(([source]) => source).sort()).toEqual([
      '/app/dist/src',
      '/app/node_modules',
      '/app/package.json',
      '/app/schemas',
    ]);
    expect(argsOf(runtime, 'RUN').join('\n')).not.toMatch(/\bnpm\b/);
  });

  it('runs as the non-root uid 10001, which owns only the state directory', () => {
    const users = argsOf(runtime, 'USER');
    expect(users).toEqual(['10001:10001']);
    expect(argsOf(runtime, 'ARG')).toEqual(expect.arrayContaining(['UID=10001', 'GID=10001']));
    const setup = argsOf(runtime, 'RUN').join('\n');
    expect(setup).toMatch(/useradd .*--uid "\$\{UID\}"/);
    expect(setup).toMatch(/chown -R "\$\{UID\}:\$\{GID\}" \/var\/lib\/persona-stream/);
    // USER comes after every RUN: nothing at run time executes as root.
    const body = runtime?.body ?? [];
    expect(body.findIndex(({ keyword }) => keyword === 'USER')).toBeGreaterThan(
      body.findLastIndex(({ keyword }) => keyword === 'RUN'),
    );
  });

  it('needs no writable root filesystem: HOME and TMPDIR are /tmp, state lives in a volume', () => {
    const env = envOf(runtime);
    expect(env).toMatchObject({
      NODE_ENV: 'production',
      HOME: '/tmp',
      TMPDIR: '/tmp',
      NPM_CONFIG_CACHE: '/tmp/.npm',
      STATE_DIR: '/var/lib/persona-stream/state',
      METRICS_PORT: '9464',
      SHUTDOWN_GRACE_MS: '25000',
    });
    expect(argsOf(runtime, 'VOLUME')).toEqual(['["/var/lib/persona-stream/state"]']);
  });

  it('starts the persona-stream binary, `all` by default', () => {
    expect(argsOf(runtime, 'ENTRYPOINT').map((args) => JSON.parse(args) as unknown)).toEqual([
      ['node', packageJson.bin['persona-stream']],
    ]);
    expect(argsOf(runtime, 'CMD').map((args) => JSON.parse(args) as unknown)).toEqual([['all']]);
  });

  it('keeps the build context small and free of local artefacts', () => {
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'test-results', '.env', 'test']));
    for (const needed of ['src', 'schemas', 'bench', 'package.json', 'package-lock.json', 'tsconfig.build.json']) {
      expect(ignored).not.toContain(needed);
    }
  });
});

describe("the Dockerfile's HEALTHCHECK", () => {
  const healthcheck = argsOf(runtime, 'HEALTHCHECK')[0] ?? '';
  const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim()) as string[];

  /** Runs the HEALTHCHECK command as Docker would, with METRICS_PORT set, and returns its exit code. */
  function runHealthcheck(port: number): Promise<number | null> {
    const [executable = '', ...args] = command;
    return new Promise((resolve, reject) => {
      const child = spawn(executable, args, { env: { ...process.env, METRICS_PORT: String(port) }, stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', resolve);
    });
  }

  async function withServer<T>(status: number, run: (port: number, paths: string[]) => Promise<T>): Promise<T> {
    const paths: string[] = [];
    const server: Server = createServer((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      return await run((server.address() as AddressInfo).port, paths);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('uses node (slim images have no curl) with a timeout and retries', () => {
    expect(healthcheck).toMatch(/^--interval=15s --timeout=5s --start-period=60s --retries=3 CMD \[/);
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
  });

  it('passes when /healthz on METRICS_PORT answers 200', async () => {
    await withServer(200, async (port, paths) => {
      expect(await runHealthcheck(port)).toBe(0);
      expect(paths).toEqual(['/healthz']);
    });
  });

  it('fails when /healthz answers 503', async () => {
    await withServer(503, async (port) => {
      expect(await runHealthcheck(port)).toBe(1);
    });
  });

  it('fails when nothing listens on METRICS_PORT', async () => {
    const port = await withServer(200, (free) => Promise.resolve(free));
    expect(await runHealthcheck(port)).toBe(1);
  });
});

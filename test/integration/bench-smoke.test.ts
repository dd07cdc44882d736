import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findPackageRoot } from '../../src/package-root.js';

/** The built bench (`npm test` builds first, as for the CLI tests). */
const BENCH = join(findPackageRoot(), 'dist', 'bench', 'main.js');

const rowSchema = z.object({
  scenario: z.string(),
  figure: z.string().min(1),
  value: z.number(),
  unit: z.string().min(1),
  median: z.string().min(1),
  spread: z.string(),
  goal: z.object({ text: z.string(), met: z.boolean(), margin: z.number() }).nullable(),
});

const recordSchema = z.object({
  machine: z.object({ description: z.string().min(1) }),
  scenarios: z.array(z.object({ scenario: z.string(), rows: z.array(rowSchema) })),
  failures: z.array(z.object({ scenario: z.string(), error: z.string() })),
});

function runBench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // KAFKA_BROKERS, when set, is the cluster the bench runs on (as for the other tests); else its mock broker.
    const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bench smoke: node dist/bench/main.js --quick --json', () => {
  it('runs every scenario of issue #6 and prints a row with a measured figure for each', async () => {
    expect(existsSync(BENCH), `${BENCH} is missing: run npm run build first`).toBe(true);
    const { code, stdout, stderr } = await runBench(['--quick', '--json']);
    expect(code, stderr).toBe(0);
    const record = recordSchema.parse(JSON.parse(stdout));
    expect(record.failures).toEqual([]);
    expect(record.scenarios.map((scenario) => scenario.scenario)).toEqual([
      'reducer',
      'processor',
      'replay',
      'restore',
      'flush',
      'webhooks',
    ]);
    for (const scenario of record.scenarios) {
      expect(scenario.rows.length, scenario.scenario).toBeGreaterThan(0);
      for (const row of scenario.rows) {
        expect(row.scenario).toBe(scenario.scenario);
        expect(Number.isFinite(row.value) && row.value >= 0, `${row.figure}: ${String(row.value)}`).toBe(true);
      }
    }
    // The goals of the issue are printed next to the figures they judge (met or not: no thresholds here).
    const goals = record.scenarios.flatMap((scenario) => scenario.rows).filter((row) => row.goal !== null);
    expect(goals.map((row) => row.goal?.text.slice(0, 1))).toContain('≥');
    expect(goals.map((row) => row.scenario)).toEqual(
      expect.arrayContaining(['reducer', 'processor', 'replay', 'flush']),
    );
  }, 300_000);
});

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findPackageRoot } from '../../src/package-root.js';

/** The built bench (`npm test` builds first, as for the CLI tests). */
const BENCH = join(findPackageRoot(), 'dist', 'bench', 'main.js');

const brokerSchema = z.object({
  kind: z.enum(['apache-kafka', 'mock', 'external']),
  version: z.string().nullable(),
  name: z.string().min(1),
});

const rowSchema = z.object({
  scenario: z.string(),
  broker: brokerSchema.nullable(),
  figure: z.string().min(1),
  value: z.number(),
  unit: z.string().min(1),
  median: z.string().min(1),
  spread: z.string(),
  goal: z.object({ text: z.string(), met: z.boolean(), margin: z.number() }).nullable(),
});

const recordSchema = z.object({
  machine: z.object({ description: z.string().min(1) }),
  brokers: z.array(brokerSchema.extend({ setup: z.string().min(1) })),
  scenarios: z.array(z.object({ scenario: z.string(), broker: brokerSchema.nullable(), rows: z.array(rowSchema) })),
  failures: z.array(z.object({ scenario: z.string(), broker: z.string().nullable(), error: z.string() })),
});

function runBench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // KAFKA_BROKERS, when set, is the bench's real cluster (as for the other tests); else it starts a local Apache Kafka.
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

describe('bench smoke: node dist/bench/main.js --quick --json --broker both', () => {
  it('runs every scenario of issue #6, the Kafka ones on the real broker and on the mock, a measured figure in each row', async () => {
    expect(existsSync(BENCH), `${BENCH} is missing: run npm run build first`).toBe(true);
    const { code, stdout, stderr } = await runBench(['--quick', '--json', '--broker', 'both']);
    expect(code, stderr).toBe(0);
    const record = recordSchema.parse(JSON.parse(stdout));
    expect(record.failures).toEqual([]);
    const real = process.env['KAFKA_BROKERS']?.trim() ? 'external' : 'apache-kafka';
    expect(record.brokers.map((broker) => broker.kind)).toEqual([real, 'mock']);
    if (real === 'apache-kafka') expect(record.brokers[0]?.version).toMatch(/^\d+\.\d+\.\d+$/);
    // The reducer once, without a broker; each Kafka scenario on the real broker, then on the mock (processor and
    // replay come from the same runs).
    const onBoth = (names: readonly string[]) =>
      [real, 'mock'].flatMap((broker) => names.map((name) => `${name}@${broker}`));
    expect(record.scenarios.map((scenario) => `${scenario.scenario}@${scenario.broker?.kind ?? '-'}`)).toEqual([
      'reducer@-',
      ...onBoth(['processor', 'replay']),
      ...onBoth(['restore']),
      ...onBoth(['flush']),
      ...onBoth(['webhooks']),
    ]);
    for (const scenario of record.scenarios) {
      expect(scenario.rows.length, scenario.scenario).toBeGreaterThan(0);
      for (const row of scenario.rows) {
        expect(row.scenario).toBe(scenario.scenario);
        expect(row.broker).toEqual(scenario.broker);
        expect(Number.isFinite(row.value) && row.value >= 0, `${row.figure}: ${String(row.value)}`).toBe(true);
      }
    }
    // Each Kafka figure pairs up across brokers by its label (the side-by-side table relies on it).
    const labels = (kind: string) =>
      record.scenarios
        .filter((scenario) => scenario.broker?.kind === kind)
        .flatMap((scenario) => scenario.rows.map((row) => `${row.scenario}: ${row.figure}`));
    expect(labels('mock')).toEqual(labels(real));
    // The goals of the issue are printed next to the figures they judge (met or not: no thresholds here).
    const goals = record.scenarios.flatMap((scenario) => scenario.rows).filter((row) => row.goal !== null);
    expect(goals.map((row) => row.goal?.text.slice(0, 1))).toContain('≥');
    expect(goals.map((row) => row.scenario)).toEqual(
      expect.arrayContaining(['reducer', 'processor', 'replay', 'flush']),
    );
  }, 400_000);
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SEED_002_PROFILES } from '../fixtures/seeds.js';
import { basilSubscriptionCreated } from '../fixtures/stripe-events.js';

/** These tests run the built binary as a user would (`npm test` builds first). */
const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'dist/src/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'persona-stream-cli-'));

function run(args: string[], input?: string) {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build (npm test does)`);
  const result = spawnSync(process.execPath, [bin, ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, REPORTING_CURRENCY: '', PIPELINE_CONFIG: '' },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ndjson(name: string, lines: unknown[]): string {
  const path = join(work, name);
  writeFileSync(path, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n'));
  return path;
}

interface SimulateOutput {
  readonly at: number;
  readonly input: { readonly lines: number; readonly inputs: number; readonly applied: number };
  readonly errors: readonly { readonly line: number; readonly reason: string }[];
  readonly profiles: readonly { readonly key: string; readonly fields: Record<string, unknown> }[];
  readonly summaries: readonly { readonly family: string; readonly segment: string; readonly count: number }[];
  readonly personas: readonly {
    readonly family: string;
    readonly segment: string;
    readonly payload: { readonly name: string; readonly description: string };
    readonly decision: { readonly action: string };
  }[];
}

/** Seed 002's 60 fallback profiles, sent as identify calls (as the Profile API backfill will). */
function seed002Identifies(): unknown[] {
  const profiles = SEED_002_PROFILES;
  return Array.from({ length: 60 }, (_, i) => ({
    type: 'identify',
    userId: `u_${i}`,
    messageId: `seed-002-${i}`,
    timestamp: '2026-03-01T00:00:00.000Z',
    traits: profiles[i % 3],
  }));
}

function subscriptionEvent(customer: string, quantity: number, unitAmount: number, created: number) {
  return basilSubscriptionCreated({
    id: `evt_${customer}_${String(created)}`,
    customer,
    created,
    quantity,
    unitAmount,
  });
}

describe('persona-stream simulate', () => {
  it("reproduces seed 002's example output from its 60 fallback profiles sent as identify calls", () => {
    const file = ndjson('seed-002.ndjson', seed002Identifies());
    const result = run(['simulate', '--events', file, '--json']);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as SimulateOutput;
    expect(output.errors).toEqual([]);
    expect(output.profiles).toHaveLength(60);
    const clusters = output.personas.filter((persona) => persona.family === 'cdp_cluster');
    expect(clusters.map((persona) => [persona.segment, persona.payload.name, persona.payload.description])).toEqual([
      [
        'at_risk',
        'Segment CDP: At Risk',
        'At Risk segment from Segment computed traits. N=20. Avg LTV: $85. Avg purchases: 1.0. Avg churn risk: 65%. Industries: Agency. Plans: free.',
      ],
      [
        'growth',
        'Segment CDP: Growth',
        'Growth segment from Segment computed traits. N=20. Avg LTV: $450. Avg purchases: 3.0. Avg churn risk: 22%. Industries: E-commerce. Plans: starter.',
      ],
      [
        'high_value',
        'Segment CDP: High Value',
        'High Value segment from Segment computed traits. N=20. Avg LTV: $1200. Avg purchases: 8.0. Avg churn risk: 5%. Industries: SaaS. Plans: pro.',
      ],
    ]);
    expect(clusters.every((persona) => persona.decision.action === 'create')).toBe(true);
  });

  it('formats revenue tiers as seed 000 does, from Stripe events', () => {
    const created = Date.UTC(2026, 1, 1) / 1000;
    const file = ndjson('tiers.ndjson', [
      subscriptionEvent('cus_a', 10, 150_000, created),
      subscriptionEvent('cus_b', 12, 150_000, created),
      subscriptionEvent('cus_c', 20, 150_000, created),
      subscriptionEvent('cus_d', 1, 4_900, created),
    ]);
    const output = JSON.parse(run(['simulate', '--events', file, '--json']).stdout) as SimulateOutput;
    const enterprise = output.personas.find((persona) => persona.segment === 'enterprise');
    expect(enterprise?.payload.name).toBe('Enterprise Customer');
    expect(enterprise?.payload.description).toBe('Revenue tier: enterprise. 3 customers, avg MRR $21,000.');
    // One smb customer is below the minimum segment size: no persona for it.
    expect(output.summaries.find((summary) => summary.segment === 'smb')?.count).toBe(1);
    expect(output.personas.some((persona) => persona.segment === 'smb')).toBe(false);
  });

  it('reports invalid lines with their number and reason and goes on', () => {
    const created = Date.UTC(2026, 1, 1) / 1000;
    const file = ndjson('mixed.ndjson', [
      subscriptionEvent('cus_a', 1, 1_000, created),
      '{ this is not json',
      { type: 'track', event: 'Order Completed', properties: { revenue: 10 } },
      { ...subscriptionEvent('cus_b', 1, 1_000, created), data: { object: { id: 'sub_x', object: 'subscription' } } },
      { type: 'identify', userId: 'u_1', traits: { plan: 'pro' }, timestamp: '2026-02-01T00:00:00Z' },
    ]);
    const text = run(['simulate', '--events', file]);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/^line 2: not JSON/m);
    expect(text.stderr).toMatch(/^line 3: .*no_user_anon_id/m);
    expect(text.stderr).toMatch(/^line 4: .*data\.object/m);
    const output = JSON.parse(run(['simulate', '--events', file, '--json']).stdout) as SimulateOutput;
    expect(output.errors.map((error) => error.line)).toEqual([2, 3, 4]);
    expect(output.profiles.map((profile) => profile.key)).toEqual(['customer:cus_a', 'user:u_1']);
  });

  it('evaluates time-dependent rules at --at', () => {
    const file = ndjson('activity.ndjson', [
      { type: 'track', event: 'Signed In', userId: 'u_1', messageId: 'm1', timestamp: '2026-01-01T00:00:00Z' },
    ]);
    const churnAt = (at?: string) => {
      const args = ['simulate', '--events', file, '--json', ...(at === undefined ? [] : ['--at', at])];
      const output = JSON.parse(run(args).stdout) as SimulateOutput;
      return output.profiles[0]?.fields['churn_risk'];
    };
    const fresh = churnAt() as number;
    const idle = churnAt('2026-04-01T00:00:00Z') as number;
    expect(idle).toBeGreaterThan(fresh);
    expect(run(['simulate', '--events', file, '--at', 'yesterday']).code).toBe(2);
  });

  it('reads stdin with --events -', () => {
    const result = run(['simulate', '--events', '-', '--json'], `${JSON.stringify(seed002Identifies()[0])}\n`);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as SimulateOutput).profiles).toHaveLength(1);
  });

  it('rejects a pipeline config with an unknown key, naming it', () => {
    const config = join(work, 'bad.yaml');
    writeFileSync(config, 'segmnts: []\n');
    const file = ndjson('one.ndjson', [seed002Identifies()[0]]);
    const result = run(['simulate', '--events', file, '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('segmnts');
  });
});

describe('persona-stream explain-mrr', () => {
  const fixture = join(root, 'test/fixtures/stripe/customer-with-subscriptions.json');

  it('explains every item and totals per currency', () => {
    const result = run(['explain-mrr', fixture, '--at', '2026-02-01T00:00:00Z']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('50000 × 4 = 200000 per 1 year');
    expect(result.stdout).toContain('counted: no (status trialing)');
    expect(result.stdout).toMatch(/total usd: 21000 minor units/);
  });

  it('prints machine-readable output with --json, from stdin too', () => {
    const result = run(['explain-mrr', '-', '--json', '--at', '2026-02-01T00:00:00Z'], readFileSync(fixture, 'utf8'));
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { totals: unknown }).totals).toEqual([{ currency: 'usd', mrr: 21_000 }]);
  });

  it('names the field of an invalid subscription and exits 1', () => {
    const file = join(work, 'bad-sub.json');
    writeFileSync(
      file,
      JSON.stringify({
        id: 'sub_1',
        object: 'subscription',
        customer: 'cus_1',
        status: 'active',
        currency: 'usd',
        created: 1767225600,
        items: { data: [{ id: 'si_1', quantity: 'two', price: { id: 'price_1', currency: 'usd', unit_amount: 100 } }] },
      }),
    );
    const result = run(['explain-mrr', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/items\.data\.0/);
  });

  it('exits 2 on wrong usage', () => {
    expect(run(['explain-mrr']).code).toBe(2);
    expect(run(['no-such-command']).code).toBe(2);
    expect(run(['--help']).stdout).toContain('simulate');
  });
});

describe('persona-stream demo', () => {
  // The full run is test/integration/demo.test.ts; these are the refusals, which start nothing.
  it('exits 2 on a size that is not a whole number, naming the option', () => {
    const result = run(['demo', '--customers', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--customers expects a whole number ≥ 0, got "many"');
    expect(run(['demo', '--months', '0']).code).toBe(2);
    expect(run(['demo', '--no-such-option']).code).toBe(2);
  });

  it('refuses --publish-only without KAFKA_BROKERS, saying what to set', () => {
    const result = spawnSync(process.execPath, [bin, 'demo', '--publish-only'], {
      encoding: 'utf8',
      env: { ...process.env, KAFKA_BROKERS: '' },
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('--publish-only publishes to an existing cluster: set KAFKA_BROKERS');
  });
});

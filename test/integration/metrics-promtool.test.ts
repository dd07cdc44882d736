import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthRegistry } from '../../src/adapters/health/health-registry.js';
import type { RunningServer } from '../../src/adapters/http/http-server.js';
import { startOpsServer } from '../../src/adapters/http/ops-server.js';
import { createMetrics } from '../../src/adapters/metrics/metrics.js';
import { createLogger } from '../../src/log/logger.js';
import { EXPECTED_FAMILIES, familyTypes, fillEveryMetric } from '../unit/ops/sample-metrics.js';

/** promtool ships in Debian's `prometheus` package; .ci/run installs it. */
function findPromtool(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/**
 * What promtool's linter checks, for machines without it: HELP and TYPE on every family, snake_case names, `_total`
 * on counters and only on counters.
 */
function lintLikePromtool(text: string): string[] {
  const problems: string[] = [];
  const helps = new Set([...text.matchAll(/^# HELP (\S+) \S/gm)].map((match) => match[1]!));
  for (const [name, type] of familyTypes(text)) {
    if (!helps.has(name)) problems.push(`${name}: no help text`);
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) problems.push(`${name}: not snake_case`);
    if (type === 'counter' && !name.endsWith('_total')) problems.push(`${name}: counter without _total`);
    if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: non-counter with _total`);
  }
  return problems;
}

describe('GET /metrics passes promtool check metrics', () => {
  let server: RunningServer;
  let scrape: string;

  beforeAll(async () => {
    const metrics = createMetrics();
    fillEveryMetric(metrics);
    server = await startOpsServer({
      port: 0,
      logger: createLogger({ level: 'silent', name: 'test' }),
      metrics,
      checks: new HealthRegistry(),
    });
    const response = await fetch(`http://127.0.0.1:${String(server.port)}/metrics`);
    expect(response.status).toBe(200);
    scrape = await response.text();
  });

  afterAll(async () => {
    await server.close();
  });

  it('the scrape has a sample for every persona_stream_* family and the default metrics', () => {
    const families = familyTypes(scrape);
    for (const name of Object.keys(EXPECTED_FAMILIES)) expect(families.has(name), name).toBe(true);
    expect(families.get('process_cpu_seconds_total')).toBe('counter');
    expect(families.get('nodejs_gc_duration_seconds')).toBe('histogram');
  });

  it('promtool check metrics exits 0 with no lint output', () => {
    const promtool = findPromtool();
    if (process.env['CI']) {
      expect(promtool, 'promtool is required in CI (Debian package prometheus)').toBeDefined();
    }
    if (promtool === undefined) {
      console.warn(
        'promtool unavailable (apt-get install -y --no-install-recommends prometheus): checked with the built-in lint instead',
      );
      expect(lintLikePromtool(scrape)).toEqual([]);
      return;
    }
    const result = spawnSync(promtool, ['check', 'metrics'], { input: scrape, encoding: 'utf8', timeout: 30_000 });
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('promtool rejects a malformed scrape, so its verdict above means something', () => {
    const promtool = findPromtool();
    const broken =
      '# HELP persona_stream_bad A gauge named like a counter.\n# TYPE persona_stream_bad_total gauge\npersona_stream_bad_total 1\n';
    if (promtool === undefined) {
      expect(lintLikePromtool(broken)).toEqual([
        'persona_stream_bad_total: no help text',
        'persona_stream_bad_total: non-counter with _total',
      ]);
      return;
    }
    const result = spawnSync(promtool, ['check', 'metrics'], { input: broken, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('persona_stream_bad_total');
  });

  it('the built-in lint agrees with promtool on our scrape', () => {
    expect(lintLikePromtool(scrape)).toEqual([]);
  });
});

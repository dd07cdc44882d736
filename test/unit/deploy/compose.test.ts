import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../../../src/adapters/metrics/metrics.js';
import {
  composeDefault,
  metricFamiliesIn,
  PERSONA_STREAM_ENV,
  PERSONA_STREAM_METRICS,
  readRepoFile,
  repoPath,
  ROLES,
  toolAvailable,
} from './deploy-facts.js';

interface ComposeService {
  image?: string;
  build?: { context: string };
  command?: string[];
  user?: string;
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }> | string[];
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  stop_grace_period?: string;
  restart?: string;
  profiles?: string[];
}

interface Compose {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

// `merge: true`: the file shares the roles' settings through YAML merge keys (<<), as Docker Compose reads them.
const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as Compose;
const prometheus = parse(readRepoFile('deploy/prometheus/prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] }[];
};
const alerts = parse(readRepoFile('deploy/prometheus/alerts.yml')) as {
  groups: { rules: { alert: string; expr: string; for: string; labels: { severity: string } }[] }[];
};

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { expr: string }[];
}
const dashboardText = readRepoFile('deploy/grafana/dashboards/persona-stream.json');
const dashboard = JSON.parse(dashboardText) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
};

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function env(name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([key, value]) => [key, composeDefault(String(value))]),
  );
}

function seconds(duration: string): number {
  const match = /^(\d+)s$/.exec(duration);
  if (match === null) throw new Error(`not a duration in seconds: ${duration}`);
  return Number(match[1]);
}

describe('docker-compose.yml', () => {
  it('has the infrastructure, the one-shot topics job, the four roles, the seed and monitoring', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'kafka',
        'schema-registry',
        'topics',
        'stripe-connector',
        'segment-connector',
        'processor',
        'flusher',
        'seed',
        'prometheus',
        'grafana',
      ].sort(),
    );
  });

  it('runs Kafka 7.7 in KRaft mode, one node, no ZooKeeper, with a health check', () => {
    const kafka = service('kafka');
    expect(kafka.image).toMatch(/^confluentinc\/cp-kafka:7\.7\.\d+$/);
    const kafkaEnv = env('kafka');
    expect(kafkaEnv['CLUSTER_ID']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(kafkaEnv['KAFKA_PROCESS_ROLES']).toBe('broker,controller');
    expect(kafkaEnv['KAFKA_CONTROLLER_QUORUM_VOTERS']).toBe('1@kafka:29093');
    expect(kafkaEnv['KAFKA_ADVERTISED_LISTENERS']).toContain('PLAINTEXT://kafka:9092');
    expect(kafkaEnv['KAFKA_AUTO_CREATE_TOPICS_ENABLE']).toBe('false');
    expect(Object.keys(kafkaEnv).some((key) => key.includes('ZOOKEEPER'))).toBe(false);
    expect(kafka.healthcheck?.test).toEqual(['CMD', 'kafka-broker-api-versions', '--bootstrap-server', 'kafka:9092']);
  });

  it('runs Schema Registry 7.7 on the same Kafka', () => {
    expect(service('schema-registry').image).toMatch(/^confluentinc\/cp-schema-registry:7\.7\.\d+$/);
    expect(env('schema-registry')['SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS']).toBe('PLAINTEXT://kafka:9092');
    expect(service('schema-registry').depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
  });

  it('creates the topics once Kafka is healthy, before any role starts', () => {
    const topics = service('topics');
    expect(topics.command).toEqual(['topics', 'create']);
    expect(topics.depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
    expect(topics.restart).toBe('no');
    for (const role of ROLES) {
      expect(service(role).depends_on).toEqual({
        topics: { condition: 'service_completed_successfully' },
        'schema-registry': { condition: 'service_healthy' },
      });
    }
  });

  it.each(ROLES)('runs %s from the local image, non-root, read-only, with /tmp as tmpfs', (role) => {
    const spec = service(role);
    expect(spec.command).toEqual([role]);
    expect(spec.image).toBe('persona-stream:local');
    expect(spec.build).toEqual({ context: '.' });
    expect(spec.user).toBe('10001:10001');
    expect(spec.read_only).toBe(true);
    expect(spec.tmpfs).toEqual(['/tmp:size=64m']);
    expect(spec.cap_drop).toEqual(['ALL']);
    const roleEnv = env(role);
    expect(roleEnv['KAFKA_BROKERS']).toBe('kafka:9092');
    expect(roleEnv['SCHEMA_REGISTRY_URL']).toBe('http://schema-registry:8081');
    // Docker waits this long after SIGTERM: longer than the drain the role is given.
    expect(seconds(spec.stop_grace_period ?? '0s') * 1000).toBeGreaterThan(Number(roleEnv['SHUTDOWN_GRACE_MS']));
  });

  it('publishes the webhook ports and gives the connectors local signing secrets', () => {
    expect(service('stripe-connector').ports).toEqual(['8080:8080']);
    expect(service('segment-connector').ports).toEqual(['8082:8080']);
    expect(env('stripe-connector')).toMatchObject({
      HTTP_PORT: '8080',
      STRIPE_WEBHOOK_SECRET: 'whsec_local_compose_only',
    });
    expect(env('segment-connector')).toMatchObject({ HTTP_PORT: '8080', SEGMENT_WRITE_KEYS: 'local-write-key' });
  });

  it('keeps the processor state on a named volume, with a static group member id', () => {
    const processorEnv = env('processor');
    expect(processorEnv['STATE_DIR']).toBe('/var/lib/persona-stream/state');
    expect(processorEnv['KAFKA_GROUP_INSTANCE_ID']).toBe('processor-0');
    expect(service('processor').volumes).toEqual([`processor-state:${processorEnv['STATE_DIR'] ?? ''}`]);
    expect(compose.volumes).toHaveProperty('processor-state');
  });

  it('runs the flusher as a dry run unless told otherwise', () => {
    expect(service('flusher').environment?.['MAVERA_DRY_RUN']).toBe('${MAVERA_DRY_RUN:-true}');
    expect(env('flusher')['MAVERA_DRY_RUN']).toBe('true');
  });

  it('keeps the traffic seed out of `docker compose up` (a profile)', () => {
    expect(service('seed').profiles).toEqual(['seed']);
    expect(service('seed').command?.slice(0, 2)).toEqual(['demo', '--publish-only']);
  });

  it('sets only variables persona-stream reads on its services', () => {
    for (const name of [...ROLES, 'topics', 'seed']) {
      for (const variable of Object.keys(env(name))) expect(PERSONA_STREAM_ENV).toContain(variable);
    }
  });
});

describe('the Prometheus config', () => {
  it.each(ROLES)("scrapes %s's metrics port", (role) => {
    const job = prometheus.scrape_configs.find((config) => config.job_name === role);
    expect(job?.static_configs).toEqual([
      { targets: [`${role}:${env(role)['METRICS_PORT'] ?? ''}`], labels: { role } },
    ]);
  });

  it('loads the alert rules compose mounts', () => {
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(service('prometheus').volumes).toContain('./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(service('prometheus').volumes).toContain(
      './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
  });

  it('alerts on the same conditions as the Helm PrometheusRule, over known metrics', () => {
    const rules = alerts.groups.flatMap((group) => group.rules);
    const helmRule = readRepoFile('helm/persona-stream/templates/prometheusrule.yaml');
    const helmAlerts = [...helmRule.matchAll(/- alert: (\w+)/g)].map(([, name]) => name);
    expect(rules.map((rule) => rule.alert)).toEqual(helmAlerts);
    expect(helmAlerts).toEqual([
      'PersonaStreamConsumerLagGrowing',
      'PersonaStreamConsumerLagHigh',
      'PersonaStreamDeadLettersGrowing',
      'PersonaStreamMaveraErrors',
      'PersonaStreamMaveraRateLimited',
      'PersonaStreamFlusherNotRunning',
      'PersonaStreamFlusherSplitBrain',
    ]);
    for (const rule of rules) {
      expect(metricFamiliesIn(rule.expr).length).toBeGreaterThan(0);
      for (const family of metricFamiliesIn(rule.expr)) expect(PERSONA_STREAM_METRICS).toContain(family);
      expect(['warning', 'critical']).toContain(rule.labels.severity);
    }
  });
});

describe('the Grafana provisioning and dashboard', () => {
  it('provisions the Prometheus datasource and the dashboard folder compose mounts', () => {
    const datasources = parse(readRepoFile('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { type: string; url: string; uid: string }[];
    };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', uid: 'prometheus' }),
    ]);
    const providers = parse(readRepoFile('deploy/grafana/provisioning/dashboards/persona-stream.yml')) as {
      providers: { options: { path: string } }[];
    };
    const mount = `./deploy/grafana/dashboards:${providers.providers[0]?.options.path ?? ''}:ro`;
    expect(service('grafana').volumes).toContain(mount);
    expect(service('grafana').volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
  });

  const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
  const exprs = panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

  it('queries only persona_stream_ metrics the roles export', () => {
    expect(exprs.length).toBeGreaterThanOrEqual(20);
    for (const expr of exprs) {
      const families = metricFamiliesIn(expr);
      expect(families.length, expr).toBeGreaterThan(0);
      for (const family of families) expect(PERSONA_STREAM_METRICS, expr).toContain(family);
    }
  });

  it('shows the key metrics: lag, events in/out, DLQ, flush decisions, Mavera requests and 429s, webhooks, state', () => {
    const used = new Set(exprs.flatMap(metricFamiliesIn));
    for (const metric of [
      'persona_stream_consumergroup_group_lag',
      'persona_stream_consumergroup_group_lag_seconds',
      'persona_stream_records_consumed_total',
      'persona_stream_records_produced_total',
      'persona_stream_dlq_records_total',
      'persona_stream_flush_decisions_total',
      'persona_stream_mavera_requests_total',
      'persona_stream_mavera_rate_limited_total',
      'persona_stream_webhook_requests_total',
      'persona_stream_state_entries',
      'persona_stream_restore_duration_seconds',
      'persona_stream_flusher_active',
    ]) {
      expect(used).toContain(metric);
    }
  });

  it('uses metric names the metrics module really registers', async () => {
    const registered = new Set(
      (await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((metric) => metric.name),
    );
    for (const metric of PERSONA_STREAM_METRICS) expect(registered).toContain(metric);
  });

  it('has panels with unique ids on the datasource variable that never overlap', () => {
    expect(dashboard.uid).toBe('persona-stream');
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource']);
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
    for (const panel of panels) expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    const cells = new Set<string>();
    for (const { gridPos } of dashboard.panels) {
      expect(gridPos.x + gridPos.w).toBeLessThanOrEqual(24);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('is the same dashboard the Helm chart ships', () => {
    expect(readRepoFile('helm/persona-stream/dashboards/persona-stream.json')).toBe(dashboardText);
  });
});

// Docker Compose's own validation where the v2 CLI is installed (v1, end-of-life, does not know the top-level `name`).
if (!toolAvailable('docker', ['compose', 'version'])) {
  process.stderr.write(
    'compose.test: `docker compose` (v2) is not installed: skipped `docker compose config` ' +
      '(the structural checks above still ran)\n',
  );
} else {
  describe('docker compose config', () => {
    it('accepts docker-compose.yml, the seed profile included', () => {
      const result = spawnSync(
        'docker',
        ['compose', '--profile', 'seed', '-f', repoPath('docker-compose.yml'), 'config', '--services'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(result.stderr).not.toMatch(/error|invalid/i);
      expect(result.status).toBe(0);
      expect(result.stdout.trim().split('\n').sort()).toEqual(Object.keys(compose.services).sort());
    });
  });
}

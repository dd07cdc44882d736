import { spawnSync } from 'node:child_process';
import { Ajv, type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PERSONA_STREAM_ENV, readRepoFile, ROLES, toolAvailable } from '../deploy/deploy-facts.js';
import {
  chartFile,
  chartPath,
  crossReferenceProblems,
  defaultValues,
  defines,
  envNames,
  helpers,
  isObject,
  mergeValues,
  templateNames,
  valueAt,
  valuesPaths,
  withIncludes,
  type JsonObject,
  type Manifest,
} from './chart-source.js';

const schema = JSON.parse(chartFile('values.schema.json')) as JsonObject;
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

function errorsFor(values: JsonObject): Pick<ErrorObject, 'instancePath' | 'keyword' | 'params'>[] {
  return validate(values)
    ? []
    : (validate.errors ?? []).map(({ instancePath, keyword, params }) => ({ instancePath, keyword, params }));
}

const template = (name: string) => chartFile(`templates/${name}`);

/** The workload template of each long-running role. */
const WORKLOADS = {
  'stripe-connector': { file: 'stripe-connector-deployment.yaml', kind: 'Deployment', values: 'stripeConnector' },
  'segment-connector': { file: 'segment-connector-deployment.yaml', kind: 'Deployment', values: 'segmentConnector' },
  processor: { file: 'processor-statefulset.yaml', kind: 'StatefulSet', values: 'processor' },
  flusher: { file: 'flusher-deployment.yaml', kind: 'Deployment', values: 'flusher' },
} as const;

describe('Chart.yaml', () => {
  it('is an apiVersion v2 application chart whose appVersion is the package version', () => {
    const chart = parse(chartFile('Chart.yaml')) as JsonObject;
    const packageJson = JSON.parse(readRepoFile('package.json')) as { version: string };
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'persona-stream', type: 'application' });
    expect(chart['appVersion']).toBe(packageJson.version);
    expect(chart['version']).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('values.schema.json', () => {
  it('accepts the default values.yaml', () => {
    expect(errorsFor(defaultValues)).toEqual([]);
  });

  it.each(['default-values.yaml', 'full-values.yaml'])('accepts ci/%s over the defaults', (file) => {
    expect(errorsFor(mergeValues(defaultValues, parse(chartFile(`ci/${file}`)) as JsonObject))).toEqual([]);
  });

  it('closes every object: additionalProperties is false at every level', () => {
    const open: string[] = [];
    let objects = 0;
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((child, index) => {
          walk(child, `${path}/${String(index)}`);
        });
        return;
      }
      if (!isObject(node)) return;
      const type = node['type'];
      const isObjectSchema =
        type === 'object' || (Array.isArray(type) && type.includes('object')) || 'properties' in node;
      if (isObjectSchema) {
        objects++;
        if (node['additionalProperties'] !== false) open.push(path || '/');
      }
      for (const [key, child] of Object.entries(node)) {
        // Inside `properties`/`patternProperties`/`definitions` the keys are names, their values schemas.
        walk(child, `${path}/${key}`);
      }
    };
    walk(schema, '');
    expect(open).toEqual([]);
    expect(objects).toBeGreaterThan(30);
  });

  it('has a default in values.yaml for every key the schema requires', () => {
    const resolve = (node: JsonObject): JsonObject => {
      const ref = node['$ref'];
      return typeof ref === 'string' ? ((valueAt(schema, ref.slice(2).split('/')) ?? {}) as JsonObject) : node;
    };
    const missing: string[] = [];
    const walk = (node: JsonObject, value: unknown, path: string): void => {
      const resolved = resolve(node);
      const properties = resolved['properties'];
      if (!isObject(properties)) return;
      const required = Array.isArray(resolved['required']) ? (resolved['required'] as string[]) : [];
      for (const key of required) {
        if (!isObject(value) || !(key in value)) missing.push(`${path}${key}`);
      }
      if (!isObject(value)) return;
      for (const [key, child] of Object.entries(value)) {
        const childSchema = properties[key];
        if (isObject(childSchema)) walk(childSchema, child, `${path}${key}.`);
      }
    };
    walk(schema, defaultValues, '');
    expect(missing).toEqual([]);
  });

  const invalid: [string, JsonObject, Pick<ErrorObject, 'instancePath' | 'keyword' | 'params'>][] = [
    [
      'an unknown top-level key',
      { replicaCount: 3 },
      { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'replicaCount' } },
    ],
    [
      'a misspelt nested key',
      { processor: { replica: 3 } },
      { instancePath: '/processor', keyword: 'additionalProperties', params: { additionalProperty: 'replica' } },
    ],
    [
      'replicas as a string',
      { processor: { replicas: '3' } },
      { instancePath: '/processor/replicas', keyword: 'type', params: { type: 'integer' } },
    ],
    [
      'an unknown pull policy',
      { image: { pullPolicy: 'Sometimes' } },
      {
        instancePath: '/image/pullPolicy',
        keyword: 'enum',
        params: { allowedValues: ['Always', 'IfNotPresent', 'Never'] },
      },
    ],
    [
      'an unsupported SASL mechanism',
      { kafka: { sasl: { mechanism: 'gssapi' } } },
      {
        instancePath: '/kafka/sasl/mechanism',
        keyword: 'enum',
        params: { allowedValues: ['', 'plain', 'scram-sha-256', 'scram-sha-512'] },
      },
    ],
    [
      'a broker list without ports',
      { kafka: { brokers: 'kafka-0,kafka-1' } },
      {
        instancePath: '/kafka/brokers',
        keyword: 'pattern',
        params: { pattern: '^$|^[^\\s,]+:[0-9]{1,5}(,[^\\s,]+:[0-9]{1,5})*$' },
      },
    ],
    [
      'a memory limit that is not a quantity',
      { stripeConnector: { resources: { limits: { memory: 'lots' } } } },
      {
        instancePath: '/stripeConnector/resources/limits/memory',
        keyword: 'pattern',
        params: { pattern: '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$' },
      },
    ],
    [
      'a node selector key Kubernetes would reject',
      { nodeSelector: { 'bad key!': 'x' } },
      { instancePath: '/nodeSelector', keyword: 'additionalProperties', params: { additionalProperty: 'bad key!' } },
    ],
    [
      'a privileged metrics port',
      { config: { metricsPort: 80 } },
      { instancePath: '/config/metricsPort', keyword: 'minimum', params: { comparison: '>=', limit: 1024 } },
    ],
    [
      'a Stripe API key where the webhook secret belongs',
      { secrets: { stripeWebhookSecret: 'sk_live_123' } },
      { instancePath: '/secrets/stripeWebhookSecret', keyword: 'pattern', params: { pattern: '^$|^whsec_\\S+$' } },
    ],
  ];

  it.each(invalid)('rejects %s, naming the value', (_case, override, expected) => {
    expect(errorsFor(mergeValues(defaultValues, override))).toEqual([expected]);
  });
});

describe('the templates', () => {
  it('balance every if/range/with/define with an end', () => {
    for (const name of templateNames) expect(() => defines(template(name)), name).not.toThrow();
  });

  it('read only values that exist in values.yaml', () => {
    const unknown: string[] = [];
    for (const name of templateNames) {
      const text = template(name);
      for (const path of valuesPaths(text)) {
        if (valueAt(defaultValues, path) === undefined) unknown.push(`${name}: .Values.${path.join('.')}`);
      }
      // `$values := .Values.<role>` shorthands: every `$values.x.y` must exist under each role it can stand for.
      const roles = [...text.matchAll(/\$values := [^\n]*/g)].flatMap(([line]) =>
        [...line.matchAll(/\.Values\.(\w+)/g)].map(([, role = '']) => role),
      );
      for (const [, path = ''] of text.matchAll(/\$values((?:\.[A-Za-z_]\w*)+)/g)) {
        for (const role of roles) {
          if (valueAt(defaultValues, [role, ...path.slice(1).split('.')]) === undefined) {
            unknown.push(`${name}: $values${path} (${role})`);
          }
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it('set only environment variables persona-stream reads', () => {
    const names = new Set(templateNames.flatMap((name) => envNames(withIncludes(template(name)))));
    const secretKeys = [...(helpers.get('persona-stream.secretValues') ?? '').matchAll(/^([A-Z][A-Z0-9_]*):/gm)].map(
      ([, key = '']) => key,
    );
    for (const name of [...names, ...secretKeys]) expect(PERSONA_STREAM_ENV).toContain(name);
    expect(secretKeys).toEqual([
      'STRIPE_API_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'SEGMENT_SHARED_SECRET',
      'SEGMENT_WEBHOOK_BATCH_TOKEN',
      'SEGMENT_WRITE_KEYS',
      'SEGMENT_TOKEN',
      'MAVERA_API_KEY',
      'KAFKA_SASL_PASSWORD',
      'SCHEMA_REGISTRY_PASSWORD',
    ]);
    // The variables every role needs, and the ones only some do.
    const common = envNames(helpers.get('persona-stream.commonEnv') ?? '');
    expect(common).toEqual(
      expect.arrayContaining(['KAFKA_BROKERS', 'METRICS_PORT', 'SHUTDOWN_GRACE_MS', 'PIPELINE_CONFIG', 'LOG_LEVEL']),
    );
    expect(envNames(template('flusher-deployment.yaml'))).toEqual(
      expect.arrayContaining(['MAVERA_API_KEY', 'MAVERA_DRY_RUN', 'FLUSH_INTERVAL_MS']),
    );
    expect(envNames(template('segment-connector-deployment.yaml'))).toEqual(
      expect.arrayContaining(['SEGMENT_SHARED_SECRET', 'SEGMENT_WRITE_KEYS', 'SEGMENT_PROFILE_API_URL', 'HTTP_PORT']),
    );
    expect(envNames(template('stripe-connector-deployment.yaml'))).toEqual(
      expect.arrayContaining(['STRIPE_WEBHOOK_SECRET', 'HTTP_PORT']),
    );
  });

  describe.each(ROLES)('the %s workload', (role) => {
    const { file, kind, values } = WORKLOADS[role];
    const text = template(file);
    const expanded = withIncludes(text);

    it(`is a ${kind} guarded by ${values}.enabled, running \`persona-stream ${role}\``, () => {
      expect(text).toMatch(new RegExp(`^\\{\\{- if \\.Values\\.${values}\\.enabled \\}\\}\\n`));
      expect(text).toContain(`kind: ${kind}\n`);
      expect(text).toContain(`args: ["${role}"]`);
    });

    it('probes /healthz (liveness, startup) and /readyz (readiness) on the metrics port', () => {
      expect(text).toMatch(/livenessProbe:\n\s+httpGet:\n\s+path: \/healthz\n\s+port: metrics\n/);
      expect(text).toMatch(/readinessProbe:\n\s+httpGet:\n\s+path: \/readyz\n\s+port: metrics\n/);
      expect(text).toMatch(/startupProbe:\n\s+httpGet:\n\s+path: \/healthz\n\s+port: metrics\n/);
      expect(text).toMatch(/- name: metrics\n\s+containerPort: \{\{ int \.Values\.config\.metricsPort \}\}/);
    });

    it('runs non-root on a read-only root filesystem, without capabilities, under RuntimeDefault seccomp', () => {
      expect(text).toContain('securityContext:\n            {{- include "persona-stream.containerSecurityContext" .');
      expect(text).toContain('{{- include "persona-stream.podSpecCommon" $ctx | nindent 6 }}');
      for (const setting of [
        'readOnlyRootFilesystem: true',
        'allowPrivilegeEscalation: false',
        'runAsNonRoot: true',
        'runAsUser: 10001',
        'capabilities:\n  drop:\n    - ALL',
        'seccompProfile:\n  type: RuntimeDefault',
        'automountServiceAccountToken: false',
      ]) {
        expect(expanded).toContain(setting);
      }
      // The only writable paths are volumes.
      expect(expanded).toContain('- name: tmp\n  mountPath: /tmp');
    });

    it('gives the pod longer than its drain time before SIGKILL, and has resources', () => {
      const preStop = role.endsWith('connector') ? '$values.preStopSleepSeconds' : '0';
      expect(text).toContain(
        `terminationGracePeriodSeconds: {{ include "persona-stream.terminationGracePeriodSeconds" (dict "root" $ "preStop" ${preStop}) }}`,
      );
      expect(text).toContain('resources:\n            {{- toYaml $values.resources | nindent 12 }}');
    });

    it('mounts the pipeline config that PIPELINE_CONFIG names', () => {
      expect(expanded).toContain('- name: PIPELINE_CONFIG\n  value: /etc/persona-stream/pipeline.yaml');
      expect(expanded).toContain('- name: pipeline\n  mountPath: /etc/persona-stream\n  readOnly: true');
      expect(expanded).toContain('configMap:\n    name: {{ include "persona-stream.configMapName" . }}');
    });
  });

  it('derive terminationGracePeriodSeconds from SHUTDOWN_GRACE_MS: whole seconds + 5 + the preStop pause', () => {
    const body = helpers.get('persona-stream.terminationGracePeriodSeconds') ?? '';
    expect(body).toContain('{{- $drainSeconds := div (add (int .root.Values.config.shutdownGraceMs) 999) 1000 }}');
    expect(body).toContain('{{- add $drainSeconds 5 (int .preStop) }}');
    expect(helpers.get('persona-stream.commonEnv')).toContain(
      '- name: SHUTDOWN_GRACE_MS\n  value: {{ int .Values.config.shutdownGraceMs | quote }}',
    );
  });

  it('refuse more processors than event partitions, and give each a stable group instance id and its own state', () => {
    const text = template('processor-statefulset.yaml');
    expect(text).toMatch(
      /\{\{- if gt \(int \$values\.replicas\) \(int \.Values\.kafka\.eventPartitions\) \}\}\n\{\{- fail \(printf "processor\.replicas \(%d\) must not exceed kafka\.eventPartitions/,
    );
    expect(text).toMatch(
      /- name: KAFKA_GROUP_INSTANCE_ID\n\s+valueFrom:\n\s+fieldRef:\n\s+fieldPath: metadata\.name\n/,
    );
    expect(text).toMatch(/- name: STATE_DIR\n\s+value: \/var\/lib\/persona-stream\/state\n/);
    expect(text).toMatch(/- name: state\n\s+mountPath: \/var\/lib\/persona-stream\/state\n/);
    expect(text).toContain('volumeClaimTemplates:');
    expect(text).toMatch(/- name: state\n\s+emptyDir:\n\s+sizeLimit: \{\{ \$values\.emptyDirSizeLimit \}\}/);
    expect(text).toContain('podManagementPolicy: Parallel');
    expect(text).toContain('serviceName: {{ include "persona-stream.componentName" $ctx }}');
    expect(template('services.yaml')).toContain('clusterIP: None');
  });

  it('create a Secret only without existingSecret, and point every secretKeyRef at the one in use', () => {
    const secret = template('secret.yaml');
    expect(secret.startsWith('{{- if not .Values.secrets.existingSecret }}\n')).toBe(true);
    expect(secret).toContain('{{- if $value }}');
    expect(helpers.get('persona-stream.secretName')).toContain(
      'default (include "persona-stream.fullname" .) .Values.secrets.existingSecret',
    );
    const secretEnv = helpers.get('persona-stream.secretEnv') ?? '';
    expect(secretEnv).toContain('{{- $secretName := include "persona-stream.secretName" .root }}');
    expect(secretEnv).toMatch(
      /secretKeyRef:\n\s+name: \{\{ \$secretName \}\}\n\s+key: \{\{ \. \}\}\n\s+optional: true/,
    );
  });

  it('give every role a PodDisruptionBudget and a metrics Service the ServiceMonitor selects', () => {
    expect(template('pdb.yaml')).toContain(
      '{{- range $component := list "stripe-connector" "segment-connector" "processor" "flusher" }}',
    );
    const services = template('services.yaml');
    for (const role of ROLES) expect(services).toContain(`"${role}"`);
    expect(services.match(/- name: metrics\n/g)).toHaveLength(3);
    expect(template('servicemonitor.yaml')).toContain('- port: metrics\n      path: /metrics');
  });

  it('route the webhook paths to the connectors in the optional Ingress', () => {
    expect(template('ingress.yaml').startsWith('{{- if .Values.ingress.enabled }}')).toBe(true);
    const paths = helpers.get('persona-stream.ingressPaths') ?? '';
    expect([...paths.matchAll(/- path: (\S+)/g)].map(([, path]) => path)).toEqual([
      '/webhooks/stripe',
      '/webhooks/segment',
      '/v1',
    ]);
  });

  it('make the optional monitoring and autoscaling resources opt-in', () => {
    expect(template('servicemonitor.yaml').startsWith('{{- if .Values.serviceMonitor.enabled }}')).toBe(true);
    expect(template('prometheusrule.yaml').startsWith('{{- if .Values.prometheusRule.enabled }}')).toBe(true);
    expect(template('grafana-dashboard.yaml').startsWith('{{- if .Values.grafanaDashboard.enabled }}')).toBe(true);
    const keda = template('keda-scaledobjects.yaml');
    expect(keda).toContain('{{- if and $values.enabled $values.autoscaling.enabled }}');
    expect(keda).toContain('{{- if and $processor.enabled $processor.autoscaling.enabled }}');
    expect(keda).toContain('kind: StatefulSet');
  });
});

describe('the chart README', () => {
  const readme = chartFile('README.md');
  const rows = new Map(
    [...readme.matchAll(/^\| `([^`]+)` \| ([^|]+?(?:\\\|[^|]+?)*) \| `(.*)` \| (.+) \|$/gm)].map(
      ([, key = '', type = '', fallback = '', description = '']) => [key, { type, fallback, description }],
    ),
  );

  const schemaFor = (path: readonly string[]): JsonObject => {
    let node: JsonObject = schema;
    for (const key of path) {
      const properties = node['properties'];
      const child = isObject(properties) ? properties[key] : undefined;
      if (!isObject(child)) throw new Error(`no schema for ${path.join('.')}`);
      node = child;
      const ref = node['$ref'];
      if (typeof ref === 'string') node = valueAt(schema, ref.slice(2).split('/')) as JsonObject;
    }
    return node;
  };

  /** The values the README must document: every key, down to leaves (free-form maps are one entry). */
  const documentedKeys = (value: unknown, path: string[]): string[][] => {
    const node = schemaFor(path);
    if (isObject(value) && isObject(node['properties']) && Object.keys(value).length > 0) {
      return Object.entries(value).flatMap(([key, child]) => documentedKeys(child, [...path, key]));
    }
    return [path];
  };
  const keys = documentedKeys(defaultValues, []);

  it('documents every value with its type and default', () => {
    expect(keys.length).toBeGreaterThan(100);
    for (const path of keys) {
      const key = path.join('.');
      const row = rows.get(key);
      expect(row, key).toBeDefined();
      expect(row?.fallback, key).toBe(JSON.stringify(valueAt(defaultValues, path)));
      const node = schemaFor(path);
      const type = node['patternProperties'] === undefined ? node['type'] : 'map';
      expect(row?.type, key).toBe(Array.isArray(type) ? type.join(' \\| ') : type);
      expect(row?.description.length, key).toBeGreaterThan(5);
    }
  });

  it('documents no value the chart does not have', () => {
    const known = new Set(keys.map((path) => path.join('.')));
    expect([...rows.keys()].filter((key) => !known.has(key))).toEqual([]);
  });
});

// Helm's own checks, where a helm binary is installed.
if (!toolAvailable('helm', ['version', '--short'])) {
  process.stderr.write(
    'chart.test: helm is not installed: skipped `helm lint --strict` and `helm template` ' +
      '(the schema and template checks above still ran)\n',
  );
} else {
  describe('helm', () => {
    const helm = (...args: string[]) => spawnSync('helm', args, { encoding: 'utf8', timeout: 120_000 });

    it.each(['default-values.yaml', 'full-values.yaml'])('lints the chart strictly with ci/%s', (file) => {
      const result = helm('lint', '--strict', chartPath(), '-f', chartPath(`ci/${file}`));
      expect(result.stdout + result.stderr).toContain('0 chart(s) failed');
      expect(result.status).toBe(0);
    });

    it.each(['default-values.yaml', 'full-values.yaml'])(
      'renders manifests that refer to each other with ci/%s',
      (file) => {
        const result = helm('template', 'ps', chartPath(), '-f', chartPath(`ci/${file}`));
        expect(result.status).toBe(0);
        const manifests = parseAllDocuments(result.stdout)
          .map((document) => document.toJS() as Manifest | null)
          .filter((manifest): manifest is Manifest => manifest !== null);
        expect(crossReferenceProblems(manifests)).toEqual([]);
      },
    );

    it('renders every role with its probes and security context', () => {
      const result = helm('template', 'ps', chartPath(), '-f', chartPath('ci/full-values.yaml'));
      expect(result.status).toBe(0);
      const objects = parseAllDocuments(result.stdout)
        .map((document) => document.toJS() as JsonObject | null)
        .filter((object): object is JsonObject => object !== null);
      const workloads = objects.filter((object) => ['Deployment', 'StatefulSet'].includes(String(object['kind'])));
      expect(workloads.map((object) => valueAt(object, ['metadata', 'name'])).sort()).toEqual(
        ROLES.map((role) => `ps-persona-stream-${role}`).sort(),
      );
      for (const workload of workloads) {
        const spec = valueAt(workload, ['spec', 'template', 'spec']) as JsonObject;
        const [container] = spec['containers'] as JsonObject[];
        expect(valueAt(container, ['livenessProbe', 'httpGet', 'path'])).toBe('/healthz');
        expect(valueAt(container, ['readinessProbe', 'httpGet', 'path'])).toBe('/readyz');
        expect(valueAt(container, ['securityContext', 'readOnlyRootFilesystem'])).toBe(true);
        expect(spec['terminationGracePeriodSeconds']).toBeGreaterThan(40);
      }
    });

    it('refuses processor.replicas above kafka.eventPartitions', () => {
      const result = helm(
        'template',
        'ps',
        chartPath(),
        '-f',
        chartPath('ci/default-values.yaml'),
        '--set',
        'processor.replicas=13',
      );
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('processor.replicas (13) must not exceed kafka.eventPartitions (12)');
    });
  });
}

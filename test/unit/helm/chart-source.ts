import { readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { readRepoFile, repoPath } from '../deploy/deploy-facts.js';

/** The chart's files as text, and the little of Go templates the static checks need (no helm binary here). */

export const CHART = 'helm/persona-stream';

export function chartFile(relative: string): string {
  return readRepoFile(`${CHART}/${relative}`);
}

export function chartPath(relative = ''): string {
  return repoPath(`${CHART}/${relative}`);
}

export const templateNames: readonly string[] = readdirSync(chartPath('templates')).sort();

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const defaultValues = parse(chartFile('values.yaml')) as JsonObject;

/** Helm's merge of a values file over the defaults: maps merge key by key, anything else replaces. */
export function mergeValues(base: JsonObject, override: JsonObject): JsonObject {
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isObject(current) && isObject(value) ? mergeValues(current, value) : value;
  }
  return merged;
}

/** The value at a dotted path, or undefined when a step is missing. */
export function valueAt(values: unknown, path: readonly string[]): unknown {
  let node = values;
  for (const key of path) {
    if (!isObject(node) || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

const ACTION = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
const OPENS_BLOCK = /^(if|range|with|define|block)\b/;

/** Every `{{ define "name" }} … {{ end }}` body in a template file, nested blocks respected. */
export function defines(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const stack: { keyword: string; name: string | undefined; bodyStart: number }[] = [];
  for (const match of text.matchAll(ACTION)) {
    const action = match[2] ?? '';
    if (action.startsWith('/*')) continue;
    const keyword = OPENS_BLOCK.exec(action)?.[1];
    if (keyword !== undefined) {
      const name = keyword === 'define' ? /^define\s+"([^"]+)"/.exec(action)?.[1] : undefined;
      stack.push({ keyword, name, bodyStart: match.index + match[0].length });
    } else if (/^end\b/.test(action)) {
      const open = stack.pop();
      if (open === undefined) throw new Error(`unbalanced {{ end }} at offset ${match.index}`);
      if (open.keyword === 'define' && open.name !== undefined) {
        found.set(open.name, text.slice(open.bodyStart, match.index));
      }
    }
  }
  if (stack.length > 0) throw new Error(`unclosed {{ ${stack.at(-1)?.keyword ?? ''} }}`);
  return found;
}

export const helpers = defines(chartFile('templates/_helpers.tpl'));

/** A template with the bodies of every helper it includes (transitively) appended, for text checks. */
export function withIncludes(text: string): string {
  const seen = new Set<string>();
  const pending = [text];
  const parts: string[] = [];
  while (pending.length > 0) {
    const part = pending.pop() ?? '';
    parts.push(part);
    for (const [, name = ''] of part.matchAll(/include "([^"]+)"/g)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const body = helpers.get(name);
      if (body !== undefined) pending.push(body);
    }
  }
  return parts.join('\n');
}

/** Every `.Values.a.b` path a template reads directly (through `.Values`, `$.Values` or `.root.Values`). */
export function valuesPaths(text: string): string[][] {
  return [...text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map(([, path = '']) =>
    path.slice(1).split('.'),
  );
}

/**
 * Environment variable names a template sets: `- name: X` entries, the names it passes to the secretEnv helper,
 * and the Secret's keys.
 */
export function envNames(text: string): string[] {
  const direct = [...text.matchAll(/- name: ([A-Z][A-Z0-9_]*)\b/g)].map(([, name = '']) => name);
  const fromSecret = [...text.matchAll(/"keys" \(list ((?:"[A-Z0-9_]+"\s*)+)\)/g)].flatMap(([, list = '']) =>
    [...list.matchAll(/"([A-Z0-9_]+)"/g)].map(([, name = '']) => name),
  );
  return [...direct, ...fromSecret];
}

export interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: JsonObject;
}

const labelsMatch = (selector: unknown, labels: unknown): boolean =>
  isObject(selector) && isObject(labels) && Object.entries(selector).every(([key, value]) => labels[key] === value);

/**
 * What `kubectl apply` would only find out at run time: selectors that select nothing, mounts of missing volumes,
 * Service ports without a container port, Ingress and KEDA targets that do not exist.
 */
export function crossReferenceProblems(manifests: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const ofKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
  const podTemplate = (workload: Manifest) => valueAt(workload.spec, ['template']) as JsonObject;
  const workloads = [...ofKind('Deployment'), ...ofKind('StatefulSet'), ...ofKind('Job')];
  const containersOf = (workload: Manifest) => valueAt(podTemplate(workload), ['spec', 'containers']) as JsonObject[];
  const podLabels = (workload: Manifest) => valueAt(podTemplate(workload), ['metadata', 'labels']);
  for (const workload of workloads) {
    const selector = valueAt(workload.spec, ['selector', 'matchLabels']);
    if (selector !== undefined && !labelsMatch(selector, podLabels(workload))) {
      problems.push(`${workload.metadata.name}: selector does not match its pod labels`);
    }
    const volumes = new Set(
      [
        ...((valueAt(podTemplate(workload), ['spec', 'volumes']) ?? []) as JsonObject[]),
        ...((valueAt(workload.spec, ['volumeClaimTemplates']) ?? []) as JsonObject[]).map((claim) => claim['metadata']),
      ].map((volume) => valueAt(volume, ['name'])),
    );
    for (const container of containersOf(workload)) {
      const env = (container['env'] ?? []) as JsonObject[];
      const names = env.map((entry) => entry['name']);
      if (new Set(names).size !== names.length) problems.push(`${workload.metadata.name}: a variable is set twice`);
      for (const entry of env) {
        if ('value' in entry && typeof entry['value'] !== 'string') {
          problems.push(`${workload.metadata.name}: ${String(entry['name'])} is not a string`);
        }
      }
      for (const mount of (container['volumeMounts'] ?? []) as JsonObject[]) {
        if (!volumes.has(mount['name']))
          problems.push(`${workload.metadata.name}: mounts missing volume ${String(mount['name'])}`);
      }
    }
  }
  for (const service of ofKind('Service')) {
    const target = workloads.find((workload) => labelsMatch(service.spec['selector'], podLabels(workload)));
    if (target === undefined) {
      problems.push(`Service ${service.metadata.name} selects no pods`);
      continue;
    }
    const containerPorts = containersOf(target).flatMap((container) => (container['ports'] ?? []) as JsonObject[]);
    for (const port of service.spec['ports'] as JsonObject[]) {
      if (!containerPorts.some((containerPort) => containerPort['name'] === port['targetPort'])) {
        problems.push(`Service ${service.metadata.name}: no container port ${String(port['targetPort'])}`);
      }
    }
  }
  for (const budget of ofKind('PodDisruptionBudget')) {
    const selector = valueAt(budget.spec, ['selector', 'matchLabels']);
    if (!workloads.some((workload) => labelsMatch(selector, podLabels(workload)))) {
      problems.push(`PodDisruptionBudget ${budget.metadata.name} selects no pods`);
    }
  }
  for (const ingress of ofKind('Ingress')) {
    for (const rule of ingress.spec['rules'] as JsonObject[]) {
      for (const path of valueAt(rule, ['http', 'paths']) as JsonObject[]) {
        const name = valueAt(path, ['backend', 'service', 'name']);
        const port = valueAt(path, ['backend', 'service', 'port', 'name']);
        const service = ofKind('Service').find((candidate) => candidate.metadata.name === name);
        if (!(service?.spec['ports'] as JsonObject[] | undefined)?.some((candidate) => candidate['name'] === port)) {
          problems.push(`Ingress ${String(path['path'])}: no Service ${String(name)} port ${String(port)}`);
        }
      }
    }
  }
  for (const scaled of ofKind('ScaledObject')) {
    const target = valueAt(scaled.spec, ['scaleTargetRef']) as JsonObject;
    if (!manifests.some((manifest) => manifest.kind === target['kind'] && manifest.metadata.name === target['name'])) {
      problems.push(`ScaledObject ${scaled.metadata.name}: no ${String(target['kind'])} ${String(target['name'])}`);
    }
  }
  return problems;
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createPipeline } from '../../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

describe("the README's pipeline config example", () => {
  it('is valid against the real schema and compiles', () => {
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    expect(blocks).toHaveLength(1);
    const config = parsePipelineConfig(parse(blocks[0] ?? ''));
    expect(config.segments.map((family) => family.name)).toEqual(['revenue_tier', 'power_users']);
    expect(config.fx_rates).toEqual({ eur: 1.08, gbp: 1.27, jpy: 0.0067 });
    expect(() => createPipeline(config)).not.toThrow();
  });
});

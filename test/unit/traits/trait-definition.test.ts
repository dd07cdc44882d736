import { describe, expect, it } from 'vitest';
import {
  TraitDefinitionError,
  compileTraitDefinitions,
  defaultTraitDefinitions,
  traitDefinitionSchema,
  traitDefinitionsSchema,
} from '../../../src/domain/traits/index.js';

describe('trait definitions', () => {
  it('fills defaults: track events, no filter, all time, no identify precedence', () => {
    expect(traitDefinitionSchema.parse({ key: 'orders', type: 'count', event: 'Order Completed' })).toEqual({
      key: 'orders',
      type: 'count',
      event: 'Order Completed',
      message_type: 'track',
      where: [],
      prefer_identify: false,
    });
  });

  it('names the field of a bad definition', () => {
    const cases: [unknown, (string | number)[]][] = [
      [{ key: 'ltv', type: 'sum', event: 'Order Completed' }, ['property']],
      [{ key: 'n', type: 'count', within_day: 30 }, []],
      [{ key: 'n', type: 'count', within_days: 0 }, ['within_days']],
      [{ key: 'n', type: 'count', where: [{ property: 'x', op: 'between', value: 1 }] }, ['where', 0, 'op']],
      [{ key: 'n', type: 'count', where: [{ property: 'x', op: 'gt', value: true }] }, ['where', 0, 'value']],
      [{ key: 'first_seen_at', type: 'count' }, ['key']],
      [{ key: 'plan', type: 'identify' }, ['trait']],
      [{ key: 'x', type: 'median', property: 'p' }, ['type']],
    ];
    for (const [input, path] of cases) {
      const result = traitDefinitionSchema.safeParse(input);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(path);
    }
  });

  it('rejects duplicate keys, in the schema and when compiling', () => {
    const twice = [
      { key: 'a', type: 'count' },
      { key: 'a', type: 'churn_risk' },
    ];
    expect(traitDefinitionsSchema.safeParse(twice).error?.issues[0]?.path).toEqual([1, 'key']);
    const definitions = twice.map((d) => traitDefinitionSchema.parse(d));
    expect(() => compileTraitDefinitions(definitions)).toThrow(TraitDefinitionError);
    expect(() => compileTraitDefinitions(definitions)).toThrow('trait definitions[1][key]: duplicate trait key "a"');
  });

  it('the defaults are the seed 002 traits', () => {
    expect(defaultTraitDefinitions.map((d) => [d.key, d.type, d.prefer_identify])).toEqual([
      ['ltv', 'sum', true],
      ['purchase_count', 'count', true],
      ['churn_risk', 'churn_risk', true],
      ['engagement_tier', 'engagement_tier', true],
      ['plan', 'identify', false],
      ['industry', 'identify', false],
      ['email', 'identify', false],
    ]);
  });

  it('compiles a dispatch per event name so unrelated events visit nothing', () => {
    const compiled = compileTraitDefinitions(
      traitDefinitionsSchema.parse([
        { key: 'orders', type: 'count', event: 'Order Completed' },
        { key: 'revenue', type: 'sum', event: 'Order Completed', property: 'revenue', within_days: 30 },
        { key: 'tracks', type: 'count' },
        { key: 'pricing_views', type: 'count', message_type: 'page', event: 'Pricing' },
      ]),
    );
    expect(compiled.dispatch.track.byName.get('Order Completed')?.map((a) => a.key)).toEqual(['orders', 'revenue']);
    expect(compiled.dispatch.track.byName.get('Signed In')).toBeUndefined();
    expect(compiled.dispatch.track.any.map((a) => a.key)).toEqual(['tracks']);
    expect(compiled.dispatch.page.byName.get('Pricing')?.map((a) => a.key)).toEqual(['pricing_views']);
    expect(compiled.longestWindowDays).toBe(30);
    expect(compiled.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(compileTraitDefinitions(defaultTraitDefinitions).fingerprint).not.toBe(compiled.fingerprint);
  });
});

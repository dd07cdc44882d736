import { describe, expect, it } from 'vitest';
import { knownCountryCodes, regionOfCountry } from '../../../src/domain/segments/region.js';

describe('regionOfCountry', () => {
  it('maps spot checks across every region', () => {
    const expected: Record<string, string | null> = {
      US: 'NA',
      CA: 'NA',
      BM: 'NA',
      GL: 'NA',
      PM: 'NA',
      MX: 'LATAM',
      BR: 'LATAM',
      AR: 'LATAM',
      PA: 'LATAM',
      JM: 'LATAM',
      PR: 'LATAM',
      VI: 'LATAM',
      CW: 'LATAM',
      GB: 'EMEA',
      DE: 'EMEA',
      FR: 'EMEA',
      RU: 'EMEA',
      TR: 'EMEA',
      AE: 'EMEA',
      IL: 'EMEA',
      ZA: 'EMEA',
      NG: 'EMEA',
      EG: 'EMEA',
      NA: 'EMEA',
      GE: 'EMEA',
      XK: 'EMEA',
      IO: 'EMEA',
      JP: 'APAC',
      CN: 'APAC',
      IN: 'APAC',
      SG: 'APAC',
      AU: 'APAC',
      NZ: 'APAC',
      KZ: 'APAC',
      PK: 'APAC',
      GU: 'APAC',
      AS: 'APAC',
      FJ: 'APAC',
      AQ: null,
    };
    for (const [code, region] of Object.entries(expected))
      expect([code, regionOfCountry(code)]).toEqual([code, region]);
  });

  it('accepts lower case and surrounding blanks, and gives null for unknown codes', () => {
    expect(regionOfCountry(' de ')).toBe('EMEA');
    expect(regionOfCountry('us')).toBe('NA');
    expect(regionOfCountry('UK')).toBeNull();
    expect(regionOfCountry('ZZ')).toBeNull();
    expect(regionOfCountry('')).toBeNull();
    expect(regionOfCountry('USA')).toBeNull();
  });

  it('covers all 249 ISO 3166-1 codes plus XK, each a region the platform also knows', () => {
    const codes = knownCountryCodes();
    expect(codes).toHaveLength(250);
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    const unnamed = codes.filter((code) => {
      const name = names.of(code);
      return name === undefined || name === code || name === 'Unknown Region';
    });
    expect(unnamed).toEqual([]);
    const withoutRegion = codes.filter((code) => regionOfCountry(code) === null);
    expect(withoutRegion).toEqual(['AQ']);
  });
});

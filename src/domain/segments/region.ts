export type Region = 'NA' | 'LATAM' | 'EMEA' | 'APAC';

export const REGIONS: readonly Region[] = ['NA', 'LATAM', 'EMEA', 'APAC'];

/**
 * Every ISO 3166-1 alpha-2 code (249) plus XK (Kosovo, which Stripe uses), by sales region.
 *
 * NA is the United States and Canada with the North American territories that are neither Caribbean nor
 * Pacific: Bermuda, Greenland, Saint Pierre and Miquelon. The rest follows geography, not sovereignty,
 * because the point is where a customer is: Puerto Rico and the US Virgin Islands are Caribbean (LATAM);
 * Guam, American Samoa, the Northern Marianas and the US Minor Outlying Islands are Pacific (APAC).
 * The Caucasus, Turkey and Cyprus are EMEA; Central Asia, Afghanistan and Pakistan are Asia (APAC).
 * Uninhabited territories follow the UN M49 sub-regions: Bouvet Island and South Georgia are South
 * America (LATAM), the British Indian Ocean Territory and the French Southern Territories are Eastern
 * Africa (EMEA), Heard & McDonald, Christmas and Cocos Islands are Australia/NZ (APAC).
 * Antarctica (AQ) is a valid code without a region.
 */
const COUNTRIES_BY_REGION: Readonly<Record<Region, string>> = {
  NA: 'US CA BM GL PM',
  LATAM: [
    // Mexico and Central America
    'MX BZ CR SV GT HN NI PA',
    // South America and the South Atlantic
    'AR BO BR CL CO EC FK GF GY PY PE SR UY VE BV GS',
    // Caribbean
    'AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC VI',
  ].join(' '),
  EMEA: [
    // Europe
    'AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME',
    'MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK',
    // Caucasus and the Middle East
    'AM AZ GE AE BH IL IQ IR JO KW LB OM PS QA SA SY TR YE',
    // Africa
    'DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU YT MA',
    'MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW IO TF',
  ].join(' '),
  APAC: [
    // Asia
    'AF BD BT BN KH CN HK IN ID JP KZ KG LA MO MY MV MN MM NP KP PK PH SG KR LK TW TJ TH TL TM UZ VN',
    // Oceania
    'AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV UM VU WF HM CX CC',
  ].join(' '),
};

const REGION_OF_COUNTRY: ReadonlyMap<string, Region | null> = (() => {
  const table = new Map<string, Region | null>([['AQ', null]]);
  for (const region of REGIONS) {
    for (const code of COUNTRIES_BY_REGION[region].split(' ')) table.set(code, region);
  }
  return table;
})();

/** Country codes the table knows (ISO 3166-1 alpha-2 plus XK), for completeness checks. */
export function knownCountryCodes(): readonly string[] {
  return [...REGION_OF_COUNTRY.keys()].sort();
}

/** Sales region of an ISO 3166-1 alpha-2 code (case-insensitive, as Stripe and Segment send it); unknown code → null. */
export function regionOfCountry(iso2: string): Region | null {
  return REGION_OF_COUNTRY.get(iso2.trim().toUpperCase()) ?? null;
}

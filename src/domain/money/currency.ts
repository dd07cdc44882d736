import { internCode } from '../codes.js';

/**
 * Minor-unit exponents per ISO-4217 code, as Stripe uses them: zero-decimal currencies have no minor unit,
 * three-decimal currencies have three; every other currency has two.
 */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export type CurrencyCode = string;

export function normalizeCurrency(code: string): CurrencyCode {
  return internCode(code.trim().toLowerCase());
}

export function minorUnitExponent(currency: CurrencyCode): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMAL.has(currency)) return 3;
  return 2;
}

/** Rounds half up (towards +infinity at .5), tolerating binary floating-point noise such as 4332.999999999. */
export function roundHalfUp(value: number): number {
  return Math.floor(value + 0.5 + 1e-9);
}

export function minorToMajor(minor: number, currency: CurrencyCode): number {
  return minor / 10 ** minorUnitExponent(currency);
}

export function majorToMinor(major: number, currency: CurrencyCode): number {
  return roundHalfUp(major * 10 ** minorUnitExponent(currency));
}

/**
 * Rates express how many major units of the reporting currency one major unit of a currency is worth
 * (`{ eur: 1.1 }` with reporting currency usd: 1 EUR = 1.10 USD).
 */
export type FxRates = Readonly<Record<CurrencyCode, number>>;

export class MissingFxRateError extends Error {
  constructor(
    readonly currency: CurrencyCode,
    readonly reportingCurrency: CurrencyCode,
  ) {
    super(`no FX rate from ${currency} to ${reportingCurrency}: add "${currency}" to fx_rates in the pipeline config`);
    this.name = 'MissingFxRateError';
  }
}

/** Converts an amount in minor units of `currency` into minor units of `reporting`, rounding half up. */
export function convertMinor(minor: number, currency: CurrencyCode, reporting: CurrencyCode, rates: FxRates): number {
  if (currency === reporting) return minor;
  const rate = rates[currency];
  if (rate === undefined) throw new MissingFxRateError(currency, reporting);
  return majorToMinor(minorToMajor(minor, currency) * rate, reporting);
}

/**
 * Currency and country codes repeat across every customer but arrive as fresh strings from JSON.parse; state keeps
 * one shared instance of each instead (a few dozen bytes per record, over a million customers). Interning is
 * referentially transparent; the pool only takes short codes and stops growing at its limit.
 */
const MAX_CODE_LENGTH = 8;
const POOL_LIMIT = 4_096;
const pool = new Map<string, string>();

export function internCode(code: string): string {
  if (code.length > MAX_CODE_LENGTH) return code;
  const pooled = pool.get(code);
  if (pooled !== undefined) return pooled;
  if (pool.size < POOL_LIMIT) pool.set(code, code);
  return code;
}

/**
 * An ISO 3166-1 alpha-2 country code, upper-cased and shared; null for none, and for a value that is not two letters
 * (Stripe documents every country it sends as one; state keeps countries as numbers of two letters).
 */
export function countryCode(code: string | null | undefined): string | null {
  if (code === null || code === undefined) return null;
  const upper = code.toUpperCase();
  return isCountryCode(upper) ? internCode(upper) : null;
}

/** Two letters A–Z (by char codes, not a pattern: state checks this for every charge and payment method applied). */
export function isCountryCode(code: string): boolean {
  return code.length === 2 && isUpperLetter(code.charCodeAt(0)) && isUpperLetter(code.charCodeAt(1));
}

function isUpperLetter(charCode: number): boolean {
  return charCode >= 65 && charCode <= 90;
}

function isCased(char: string): boolean {
  return char.toLowerCase() !== char.toUpperCase();
}

/**
 * Python's `str.title()`: a cased character is upper-cased when it follows an uncased one and lower-cased
 * otherwise, so "mid_market".replace('_', ' ').title() is "Mid Market" and "b2b saas" becomes "B2B Saas".
 */
export function pythonTitle(text: string): string {
  let out = '';
  let previousCased = false;
  for (const char of text) {
    const cased = isCased(char);
    out += cased ? (previousCased ? char.toLowerCase() : char.toUpperCase()) : char;
    previousCased = cased;
  }
  return out;
}

/** The seeds' label of a bucket key: `key.replace('_', ' ').title()` (Python's replace replaces every occurrence). */
export function labelOfKey(key: string): string {
  return pythonTitle(key.replaceAll('_', ' '));
}

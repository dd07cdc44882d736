export class UnsupportedFormatSpecError extends Error {
  constructor(readonly spec: string) {
    super(`unsupported format spec "${spec}": expected [,][.precision](f|%), e.g. ",.0f", ".1f", ".0%"`);
    this.name = 'UnsupportedFormatSpecError';
  }
}

const SPEC = /^(,?)(?:\.(\d{1,2}))?([f%])$/;

interface ParsedSpec {
  readonly grouping: boolean;
  readonly precision: number;
  readonly percent: boolean;
}

const parsedSpecs = new Map<string, ParsedSpec>();

function parseSpec(spec: string): ParsedSpec {
  let parsed = parsedSpecs.get(spec);
  if (parsed !== undefined) return parsed;
  const match = SPEC.exec(spec);
  if (match === null) throw new UnsupportedFormatSpecError(spec);
  parsed = {
    grouping: match[1] === ',',
    precision: match[2] === undefined ? 6 : Number(match[2]),
    percent: match[3] === '%',
  };
  parsedSpecs.set(spec, parsed);
  return parsed;
}

/** `abs` (finite, ≥ 0) × 10^digits rounded half to even, from the exact binary value: the digits Python prints. */
function scaledDigits(abs: number, digits: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, abs);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biasedExponent = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent: number;
  if (biasedExponent === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = biasedExponent - 1075;
  }
  // abs = mantissa × 2^exponent exactly.
  const numerator = mantissa * 10n ** BigInt(digits);
  if (exponent >= 0) return numerator << BigInt(exponent);
  const shift = BigInt(-exponent);
  const quotient = numerator >> shift;
  const remainder = numerator - (quotient << shift);
  const half = 1n << (shift - 1n);
  if (remainder > half || (remainder === half && (quotient & 1n) === 1n)) return quotient + 1n;
  return quotient;
}

function groupThousands(integer: string): string {
  let out = '';
  for (let end = integer.length; end > 0; end -= 3) {
    const part = integer.slice(Math.max(0, end - 3), end);
    out = out === '' ? part : `${part},${out}`;
  }
  return out;
}

/**
 * Python's `format(value, spec)` for the fixed-point specs the seeds use (`,.0f`, `.0f`, `.1f`, `.0%`, and any
 * `[,][.N](f|%)`): rounds the exact binary value half to even, as CPython does (`format(2.5, '.0f')` is "2",
 * `format(0.125, '.2f')` is "0.12"), keeps the sign of negative zero, and for `%` multiplies by 100 in floating
 * point first, as CPython does.
 */
export function formatPython(value: number, spec: string): string {
  const { grouping, precision, percent } = parseSpec(spec);
  const suffix = percent ? '%' : '';
  const x = percent ? value * 100 : value;
  if (Number.isNaN(x)) return `nan${suffix}`;
  const negative = x < 0 || Object.is(x, -0);
  if (!Number.isFinite(x)) return `${negative ? '-' : ''}inf${suffix}`;
  const digits = scaledDigits(Math.abs(x), precision)
    .toString()
    .padStart(precision + 1, '0');
  const integer = digits.slice(0, digits.length - precision);
  const fraction = digits.slice(digits.length - precision);
  const body = (grouping ? groupThousands(integer) : integer) + (precision > 0 ? `.${fraction}` : '');
  return `${negative ? '-' : ''}${body}${suffix}`;
}

import { internCode } from '../codes.js';
import { internPrice } from '../revenue/price-pool.js';
import type { Price, PriceTier, RecurringInterval } from '../stripe/model.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { EntityStateEncodeError } from './entity-state-errors.js';

/** Enum tables of format version 1: positions are written, so entries are only ever appended. */
const INTERVALS: readonly RecurringInterval[] = ['day', 'week', 'month', 'year'];
const TIERS_MODES: readonly Price['tiersMode'][] = [null, 'graduated', 'volume'];

const TIERED = 1;
const TIERS_MODE_SHIFT = 1;
const HAS_TIERS = 8;
const HAS_TRANSFORM = 16;
const ROUND_UP = 32;
const HAS_RECURRING = 64;
const INTERVAL_SHIFT = 7;
const METERED = 512;
const MAX_FLAGS = 1023;

/** string id, string currency, uint flags, number unitAmount, [tiers], [divideBy], [intervalCount]. */
export function writePrice(writer: ByteWriter, price: Price): void {
  const transform = price.transformQuantity;
  const recurring = price.recurring;
  writer.string(price.id);
  writer.string(price.currency);
  writer.uint(priceFlags(price));
  writer.number(price.unitAmount);
  if (price.tiers !== null) {
    writer.uint(price.tiers.length);
    for (const tier of price.tiers) {
      writer.number(tier.upTo);
      writer.number(tier.unitAmount);
      writer.number(tier.flatAmount);
    }
  }
  if (transform !== null) writer.number(transform.divideBy);
  if (recurring !== null) writer.number(recurring.intervalCount);
}

/** The price, shared with equal prices of other customers through the price pool (as live state does). */
export function readPrice(reader: ByteReader): Price {
  const id = reader.requiredString('price.id');
  const currency = internCode(reader.requiredString('price.currency'));
  const flagsAt = reader.offset;
  const flags = reader.boundedUint('price.flags', MAX_FLAGS);
  const tiersMode = TIERS_MODES[(flags >> TIERS_MODE_SHIFT) & 3];
  if (tiersMode === undefined) reader.fail('malformed', 'price.tiersMode', `unknown code in ${flags}`, flagsAt);
  const unitAmount = reader.number('price.unitAmount');
  let tiers: PriceTier[] | null = null;
  if ((flags & HAS_TIERS) !== 0) {
    const count = reader.count('price.tiers', 3);
    tiers = new Array<PriceTier>(count);
    for (let i = 0; i < count; i++) {
      tiers[i] = {
        upTo: reader.number('price.tiers.upTo'),
        unitAmount: reader.number('price.tiers.unitAmount'),
        flatAmount: reader.number('price.tiers.flatAmount'),
      };
    }
  }
  const transformQuantity =
    (flags & HAS_TRANSFORM) !== 0
      ? {
          divideBy: reader.requiredNumber('price.transformQuantity.divideBy'),
          round: (flags & ROUND_UP) !== 0 ? ('up' as const) : ('down' as const),
        }
      : null;
  const recurring =
    (flags & HAS_RECURRING) !== 0
      ? {
          interval: INTERVALS[(flags >> INTERVAL_SHIFT) & 3] as RecurringInterval,
          intervalCount: reader.requiredNumber('price.recurring.intervalCount'),
          usageType: (flags & METERED) !== 0 ? ('metered' as const) : ('licensed' as const),
        }
      : null;
  const price: Price = {
    id,
    currency,
    unitAmount,
    billingScheme: (flags & TIERED) !== 0 ? 'tiered' : 'per_unit',
    tiersMode,
    tiers,
    transformQuantity,
    recurring,
  };
  if (priceFlags(price) !== flags)
    reader.fail('malformed', 'price.flags', `flags without their field in ${flags}`, flagsAt);
  return internPrice(price);
}

function priceFlags(price: Price): number {
  const transform = price.transformQuantity;
  const recurring = price.recurring;
  let flags = price.billingScheme === 'tiered' ? TIERED : 0;
  flags += codeOf(TIERS_MODES, price.tiersMode, 'price.tiersMode') << TIERS_MODE_SHIFT;
  if (price.tiers !== null) flags += HAS_TIERS;
  if (transform !== null) flags += HAS_TRANSFORM + (transform.round === 'up' ? ROUND_UP : 0);
  if (recurring !== null) {
    flags += HAS_RECURRING + (codeOf(INTERVALS, recurring.interval, 'price.recurring.interval') << INTERVAL_SHIFT);
    if (recurring.usageType === 'metered') flags += METERED;
  }
  return flags;
}

export function codeOf<T>(table: readonly T[], value: T, field: string): number {
  const code = table.indexOf(value);
  if (code < 0) throw new EntityStateEncodeError(field, `unknown value ${String(value)}`);
  return code;
}

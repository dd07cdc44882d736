import { countryCode } from '../../domain/codes.js';
import { normalizeCurrency } from '../../domain/money/currency.js';
import type { CustomerFact } from '../../domain/stripe/model.js';
import { normalizeDiscount } from './normalize-discount.js';
import type { RawCustomer } from './raw-schemas.js';

export type CustomerFields = Pick<
  CustomerFact,
  'customerId' | 'deleted' | 'email' | 'name' | 'currency' | 'delinquent' | 'addressCountry' | 'discount'
>;

/** Customer → the fields a CustomerFact carries; `deleted` also when the event says so (customer.deleted). */
export function normalizeCustomer(raw: RawCustomer, deleted: boolean): CustomerFields {
  return {
    customerId: raw.id,
    deleted: deleted || raw.deleted === true,
    email: raw.email ?? null,
    name: raw.name ?? null,
    currency: raw.currency ? normalizeCurrency(raw.currency) : null,
    delinquent: raw.delinquent ?? false,
    addressCountry: countryCode(raw.address?.country),
    discount: raw.discount ? normalizeDiscount(raw.discount, { customerId: raw.id, subscriptionId: null }) : null,
  };
}

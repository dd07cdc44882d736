/**
 * The Stripe customer id an event is about (the Kafka key of `stripe.events`), read without validating the whole
 * payload, or null when the payload does not say (e.g. a dispute whose charge is not expanded).
 * customer.created/updated/deleted: the object's id; payment_method.detached: `previous_attributes.customer` when
 * the object's is null; charge.dispute.*: the expanded charge's customer; otherwise the object's `customer`.
 */
export function stripeEntityKey(raw: unknown): string | null {
  const type = field(raw, 'type');
  const data = field(raw, 'data');
  const object = field(data, 'object');
  if (typeof type !== 'string' || !isRecord(object)) return null;

  if (type === 'customer.created' || type === 'customer.updated' || type === 'customer.deleted') {
    return nonEmptyString(object['id']);
  }
  if (type.startsWith('charge.dispute.')) return referenceId(field(object['charge'], 'customer'));
  const customer = referenceId(object['customer']);
  if (customer === null && type === 'payment_method.detached') {
    return referenceId(field(field(data, 'previous_attributes'), 'customer'));
  }
  return customer;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function referenceId(value: unknown): string | null {
  return nonEmptyString(value) ?? nonEmptyString(field(value, 'id'));
}

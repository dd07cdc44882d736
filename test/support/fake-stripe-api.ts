import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Stripe API's read side, enough for the backfill and the dispute resolver through the
 * real stripe SDK: the list endpoints with Stripe's paging (`limit`, `starting_after`, `has_more`, newest first as
 * seeded), `created[gte|gt|lte|lt]`, `status=all` on subscriptions, `expand[]` of `data.subscriptions` on customers
 * and `data.charge` on disputes, `/v1/customers/:id/payment_methods`, `/v1/events`, `/v1/charges/:id` (404 with
 * Stripe's error body when unknown). Every request is recorded with its arrival time; `throttle` answers chosen
 * requests 429 with a Retry-After, as Stripe does over its rate limit.
 */
export type StripeObject = Record<string, unknown> & { readonly id: string };

export interface FakeStripeData {
  /** Each list newest first, the order Stripe returns. */
  readonly customers?: readonly StripeObject[];
  readonly subscriptions?: readonly StripeObject[];
  readonly invoices?: readonly StripeObject[];
  readonly charges?: readonly StripeObject[];
  readonly disputes?: readonly StripeObject[];
  readonly events?: readonly StripeObject[];
  /** By customer id. */
  readonly paymentMethods?: Readonly<Record<string, readonly StripeObject[]>>;
}

export interface RecordedRequest {
  /** 1-based, in arrival order. */
  readonly index: number;
  readonly method: string;
  /** Without the query string, e.g. `/v1/customers`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Date.now() at arrival. */
  readonly at: number;
  /** What the fake answered. */
  status: number;
}

export interface FakeStripeOptions {
  readonly data: FakeStripeData;
  /** The Retry-After to answer 429 with instead of serving this request, or null to serve it. */
  readonly throttle?: (request: RecordedRequest) => string | null;
  /** Called as each request arrives, before it is answered. */
  readonly onRequest?: (request: RecordedRequest) => void;
  readonly apiKey?: string;
}

export interface FakeStripeApi {
  /** e.g. http://127.0.0.1:43123 — STRIPE_API_URL. */
  readonly url: string;
  readonly apiKey: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export const FAKE_STRIPE_KEY = 'sk_test_fake_backfill';

export async function startFakeStripeApi(options: FakeStripeOptions): Promise<FakeStripeApi> {
  const apiKey = options.apiKey ?? FAKE_STRIPE_KEY;
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const recorded: RecordedRequest = {
      index: requests.length + 1,
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      at: Date.now(),
      status: 0,
    };
    requests.push(recorded);
    options.onRequest?.(recorded);
    request.resume();
    request.on('end', () => {
      recorded.status = answer(request, response, recorded, options, apiKey);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

function answer(
  request: IncomingMessage,
  response: ServerResponse,
  recorded: RecordedRequest,
  options: FakeStripeOptions,
  apiKey: string,
): number {
  if (request.headers.authorization !== `Bearer ${apiKey}`) {
    return send(response, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
  }
  const retryAfter = options.throttle?.(recorded) ?? null;
  if (retryAfter !== null) {
    return send(
      response,
      429,
      { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' } },
      { 'retry-after': retryAfter },
    );
  }
  if (recorded.method !== 'GET') return send(response, 405, { error: { message: 'read-only fake' } });
  const { data } = options;
  const { path, query } = recorded;
  const expand = expansions(query);
  let match: RegExpExecArray | null;
  switch (path) {
    case '/v1/customers':
      return sendList(response, path, query, data.customers ?? [], (customer) =>
        expand.has('data.subscriptions')
          ? { ...customer, subscriptions: embeddedSubscriptions(data, customer.id) }
          : customer,
      );
    case '/v1/subscriptions': {
      const all = data.subscriptions ?? [];
      const listed = query.get('status') === 'all' ? all : all.filter((sub) => sub['status'] !== 'canceled');
      return sendList(response, path, query, listed, identity);
    }
    case '/v1/invoices':
      return sendList(response, path, query, data.invoices ?? [], identity);
    case '/v1/charges':
      return sendList(response, path, query, data.charges ?? [], identity);
    case '/v1/disputes':
      return sendList(response, path, query, data.disputes ?? [], (dispute) =>
        expand.has('data.charge') ? { ...dispute, charge: expandedCharge(data, dispute['charge']) } : dispute,
      );
    case '/v1/events':
      return sendList(response, path, query, data.events ?? [], identity);
  }
  if ((match = /^\/v1\/customers\/([^/]+)\/payment_methods$/.exec(path)) !== null) {
    const customerId = decodeURIComponent(match[1] ?? '');
    return sendList(response, path, query, data.paymentMethods?.[customerId] ?? [], identity);
  }
  if ((match = /^\/v1\/charges\/([^/]+)$/.exec(path)) !== null) {
    const chargeId = decodeURIComponent(match[1] ?? '');
    const charge = (data.charges ?? []).find((candidate) => candidate.id === chargeId);
    if (charge === undefined) {
      return send(response, 404, {
        error: {
          type: 'invalid_request_error',
          code: 'resource_missing',
          param: 'id',
          message: `No such charge: '${chargeId}'`,
        },
      });
    }
    return send(response, 200, charge);
  }
  return send(response, 404, {
    error: { type: 'invalid_request_error', message: `Unrecognized request URL (GET: ${path})` },
  });
}

function identity(object: StripeObject): StripeObject {
  return object;
}

function expansions(query: URLSearchParams): Set<string> {
  const expanded = new Set<string>();
  for (const [key, value] of query) if (/^expand\[\d*\]$/.test(key)) expanded.add(value);
  return expanded;
}

function sendList(
  response: ServerResponse,
  path: string,
  query: URLSearchParams,
  all: readonly StripeObject[],
  render: (object: StripeObject) => Record<string, unknown>,
): number {
  const limit = Math.min(Math.max(Number(query.get('limit') ?? '10'), 1), 100);
  let items = all.filter((object) => createdMatches(object, query));
  const after = query.get('starting_after');
  if (after !== null) {
    const position = items.findIndex((object) => object.id === after);
    if (position < 0) {
      return send(response, 400, {
        error: { type: 'invalid_request_error', param: 'starting_after', message: `No such object: '${after}'` },
      });
    }
    items = items.slice(position + 1);
  }
  const page = items.slice(0, limit);
  return send(response, 200, {
    object: 'list',
    url: path,
    has_more: items.length > limit,
    data: page.map(render),
  });
}

function createdMatches(object: StripeObject, query: URLSearchParams): boolean {
  const created = Number(object['created']);
  const bound = (name: string): number | null => {
    const value = query.get(`created[${name}]`);
    return value === null ? null : Number(value);
  };
  const gte = bound('gte');
  const gt = bound('gt');
  const lte = bound('lte');
  const lt = bound('lt');
  return (
    (gte === null || created >= gte) &&
    (gt === null || created > gt) &&
    (lte === null || created <= lte) &&
    (lt === null || created < lt)
  );
}

/** What `expand[]=data.subscriptions` embeds: the customer's non-canceled subscriptions, at most 10. */
function embeddedSubscriptions(data: FakeStripeData, customerId: string): Record<string, unknown> {
  const own = (data.subscriptions ?? []).filter(
    (sub) => sub['customer'] === customerId && sub['status'] !== 'canceled',
  );
  return {
    object: 'list',
    url: `/v1/customers/${customerId}/subscriptions`,
    has_more: own.length > 10,
    data: own.slice(0, 10),
  };
}

function expandedCharge(data: FakeStripeData, charge: unknown): unknown {
  if (typeof charge !== 'string') return charge;
  return (data.charges ?? []).find((candidate) => candidate.id === charge) ?? charge;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
  response.writeHead(status, {
    'content-type': 'application/json',
    'request-id': `req_fake_${Date.now()}`,
    ...headers,
  });
  response.end(JSON.stringify(body));
  return status;
}

// Seed objects in the basil API shape (the fields the pipeline reads plus a few it does not).

const DAY = 86_400;

export function customerObject(id: string, created: number, country = 'DE'): StripeObject {
  return {
    id,
    object: 'customer',
    created,
    currency: 'usd',
    delinquent: false,
    description: null,
    discount: null,
    email: `${id}@example.test`,
    name: `Customer ${id}`,
    address: { country, city: null },
    livemode: false,
    metadata: {},
  };
}

export function subscriptionObject(
  id: string,
  customer: string,
  created: number,
  options: {
    readonly status?: string;
    readonly unitAmount?: number;
    readonly quantity?: number;
    readonly endedAt?: number;
  } = {},
): StripeObject {
  const status = options.status ?? 'active';
  return {
    id,
    object: 'subscription',
    customer,
    status,
    currency: 'usd',
    created,
    start_date: created,
    cancel_at_period_end: false,
    canceled_at: status === 'canceled' ? (options.endedAt ?? created + DAY) : null,
    ended_at: status === 'canceled' ? (options.endedAt ?? created + DAY) : null,
    trial_end: null,
    discounts: [],
    livemode: false,
    items: {
      object: 'list',
      has_more: false,
      data: [
        {
          id: `si_${id}`,
          object: 'subscription_item',
          quantity: options.quantity ?? 1,
          discounts: [],
          current_period_start: created,
          current_period_end: created + 30 * DAY,
          price: {
            id: 'price_monthly',
            object: 'price',
            currency: 'usd',
            unit_amount: options.unitAmount ?? 2_500,
            billing_scheme: 'per_unit',
            recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed' },
          },
        },
      ],
    },
  };
}

export function invoiceObject(id: string, customer: string, created: number, status = 'paid'): StripeObject {
  return {
    id,
    object: 'invoice',
    customer,
    created,
    currency: 'usd',
    status,
    amount_paid: status === 'paid' ? 2_500 : 0,
    parent: { subscription_details: { subscription: `sub_${customer}` } },
    status_transitions: {
      finalized_at: created + 60,
      paid_at: status === 'paid' ? created + 3_600 : null,
      voided_at: null,
      marked_uncollectible_at: null,
    },
    livemode: false,
  };
}

export function chargeObject(
  id: string,
  customer: string | null,
  created: number,
  options: { readonly status?: string; readonly amountRefunded?: number; readonly cardCountry?: string } = {},
): StripeObject {
  return {
    id,
    object: 'charge',
    customer,
    created,
    status: options.status ?? 'succeeded',
    amount: 2_500,
    amount_refunded: options.amountRefunded ?? 0,
    currency: 'usd',
    payment_method_details: { type: 'card', card: { country: options.cardCountry ?? 'DE', brand: 'visa' } },
    billing_details: { address: { country: 'DE' } },
    livemode: false,
  };
}

export function paymentMethodObject(id: string, customer: string, created: number, country = 'FR'): StripeObject {
  return {
    id,
    object: 'payment_method',
    customer,
    created,
    type: 'card',
    card: { country, brand: 'mastercard', last4: '4444' },
    billing_details: { address: { country } },
    livemode: false,
  };
}

export function disputeObject(id: string, charge: string, created: number, status = 'needs_response'): StripeObject {
  return { id, object: 'dispute', charge, created, status, amount: 2_500, currency: 'usd', livemode: false };
}

/** A Stripe event as /v1/events returns it. */
export function eventObject(id: string, type: string, created: number, object: StripeObject): StripeObject {
  return {
    id,
    object: 'event',
    api_version: '2025-03-31.basil',
    created,
    livemode: false,
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

/**
 * A small account, every list newest first: `customers` customers (each with a payment method; every third with
 * a second one), one subscription per customer (every fifth canceled), an invoice and a charge per customer, a
 * guest charge without customer, and a dispute on every fourth customer's charge.
 */
export function seedStripeAccount(customers: number, start = 1_767_225_600): FakeStripeData {
  const ids = Array.from({ length: customers }, (_, i) => `cus_${String(i + 1).padStart(3, '0')}`);
  const at = (i: number) => start + i * 3_600;
  const newestFirst = <T>(list: T[]) => list.reverse();
  const paymentMethods: Record<string, StripeObject[]> = {};
  ids.forEach((id, i) => {
    paymentMethods[id] = [paymentMethodObject(`pm_${id}_a`, id, at(i) + 10)];
    if (i % 3 === 0) paymentMethods[id].push(paymentMethodObject(`pm_${id}_b`, id, at(i) + 20, 'US'));
  });
  const charges = ids.map((id, i) => chargeObject(`ch_${id}`, id, at(i) + 30));
  charges.push(chargeObject('ch_guest', null, at(customers) + 30));
  return {
    customers: newestFirst(ids.map((id, i) => customerObject(id, at(i)))),
    subscriptions: newestFirst(
      ids.map((id, i) =>
        subscriptionObject(`sub_${id}`, id, at(i) + 5, {
          status: i % 5 === 4 ? 'canceled' : 'active',
          quantity: 1 + (i % 4),
        }),
      ),
    ),
    invoices: newestFirst(ids.map((id, i) => invoiceObject(`in_${id}`, id, at(i) + 40, i % 6 === 5 ? 'open' : 'paid'))),
    charges: newestFirst(charges),
    disputes: newestFirst(
      ids.flatMap((id, i) => (i % 4 === 0 ? [disputeObject(`dp_${id}`, `ch_${id}`, at(i) + 50)] : [])),
    ),
    paymentMethods,
  };
}

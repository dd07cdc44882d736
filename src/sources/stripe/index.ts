export { stripeEntityKey } from './entity-key.js';
export {
  parseStripeEvent,
  stripeEventFamily,
  type StripeEventInfo,
  type StripeEventParseResult,
} from './parse-event.js';
export { StripeParseError, type StripeParseErrorCode, type StripeParseIssue } from './parse-error.js';
export {
  parseCustomerWithSubscriptions,
  parseSubscriptionObject,
  type ParsedCustomer,
  type ParsedSubscription,
  type StripeObjectParseResult,
} from './parse-objects.js';

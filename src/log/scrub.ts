export const REDACTED = '[redacted]';

/**
 * Secrets and e-mail addresses inside free text (messages, refusal reasons, error messages, stacks), where key-based
 * redaction cannot see them. Key patterns follow Stripe (sk_/rk_ live|test, whsec_), Mavera (mvra_live_/mvra_test_)
 * and HTTP credentials (`Bearer …`, `Basic …`).
 */
const SECRET_OR_EMAIL =
  /(?:sk|rk)_(?:live|test)_[0-9A-Za-z]+|whsec_[0-9A-Za-z+/=]+|mvra_(?:live|test)_[0-9A-Za-z_-]+|\b(?:Bearer|Basic) [0-9A-Za-z._~+/=-]{6,}|[0-9A-Za-z._%+-]+@[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)+/g;

/** 13–19 digits, optionally grouped by single spaces or dashes, not inside a longer number. */
const DIGIT_RUN = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g;

/**
 * Whether a run of digits reads as a payment card number: a card network's leading digit and length (so an epoch
 * in milliseconds, which starts with 1, or an order id of another length is left alone) and a valid Luhn check.
 */
export function looksLikeCardNumber(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits)) return false;
  const length = digits.length;
  const lengthFits: Readonly<Record<string, boolean>> = {
    '2': length === 16,
    '3': length >= 14,
    '4': length === 13 || length >= 16,
    '5': length === 16,
    '6': length >= 16,
  };
  return (lengthFits[digits.charAt(0)] ?? false) && luhnValid(digits);
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export function scrubText(text: string): string {
  return text
    .replace(SECRET_OR_EMAIL, REDACTED)
    .replace(DIGIT_RUN, (run) => (looksLikeCardNumber(run.replace(/[ -]/g, '')) ? REDACTED : run));
}

/** A JSON string literal, escapes included. */
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;

/**
 * A JSON text with every string literal scrubbed; numbers, keys' structure and escapes stay as they are, so the result
 * is still the same JSON document (the placeholder needs no escaping).
 */
export function scrubJsonStrings(json: string): string {
  return json.replace(JSON_STRING, scrubText);
}

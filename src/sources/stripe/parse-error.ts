import type { z } from 'zod';

/**
 * - `invalid`: the payload does not match what we read from it (the path names the field).
 * - `missing_customer`: valid, but the customer cannot be known from the payload alone (a dispute whose charge is
 *   not expanded, an invoice or charge without customer); the connector can enrich it through the API.
 */
export type StripeParseErrorCode = 'invalid' | 'missing_customer';

export interface StripeParseIssue {
  /** Dotted path from the root of what was parsed, e.g. `data.object.items.data.0.price.recurring.interval`. */
  readonly path: string;
  readonly message: string;
}

export class StripeParseError extends Error {
  constructor(
    readonly code: StripeParseErrorCode,
    /** Path of the first offending field. */
    readonly path: string,
    message: string,
    readonly issues: readonly StripeParseIssue[],
    readonly eventId: string | null = null,
    readonly eventType: string | null = null,
  ) {
    super(`${path === '' ? '(root)' : path}: ${message}${eventId === null ? '' : ` (event ${eventId})`}`);
    this.name = 'StripeParseError';
  }

  static fromZod(
    error: z.ZodError,
    pathPrefix: readonly (string | number)[],
    eventId: string | null = null,
    eventType: string | null = null,
  ): StripeParseError {
    const issues = error.issues.flatMap((issue) => flattenIssue(issue, pathPrefix));
    const first = issues[0] ?? { path: joinPath(pathPrefix), message: 'invalid' };
    return new StripeParseError('invalid', first.path, first.message, issues, eventId, eventType);
  }

  static missingCustomer(
    path: string,
    message: string,
    eventId: string | null = null,
    eventType: string | null = null,
  ): StripeParseError {
    return new StripeParseError('missing_customer', path, message, [{ path, message }], eventId, eventType);
  }
}

type ZodIssue = z.core.$ZodIssue;

/**
 * A union issue (e.g. "discount id or expanded discount") says only "Invalid input" at the union; the branch that got
 * furthest into the value names the real field, so its issues are reported instead.
 */
function flattenIssue(issue: ZodIssue, prefix: readonly (string | number)[]): StripeParseIssue[] {
  const path = [...prefix, ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    let best: readonly ZodIssue[] | undefined;
    let bestDepth = -1;
    for (const branch of issue.errors) {
      const depth = Math.max(...branch.map((branchIssue) => branchIssue.path.length));
      if (depth > bestDepth) {
        best = branch;
        bestDepth = depth;
      }
    }
    if (best !== undefined && bestDepth > 0) return best.flatMap((branchIssue) => flattenIssue(branchIssue, path));
  }
  return [{ path: joinPath(path), message: issue.message }];
}

export function joinPath(path: readonly (string | number)[]): string {
  return path.join('.');
}

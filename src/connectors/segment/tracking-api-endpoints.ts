import type { SegmentMessageType } from '../../domain/segment/model.js';

/** A single call takes its message type from the path; a batch endpoint takes `{"batch":[…]}`. */
export type TrackingApiEndpoint =
  { readonly kind: 'single'; readonly type: SegmentMessageType } | { readonly kind: 'batch' };

const single = (type: SegmentMessageType): TrackingApiEndpoint => ({ kind: 'single', type });
const batch: TrackingApiEndpoint = { kind: 'batch' };

/**
 * The HTTP Tracking API's routes, plus `/v1/import` (the legacy batch path older libraries use) and analytics.js'
 * one-letter aliases (`/v1/<first letter of the type>`, `/v1/b` when it batches).
 */
const ENDPOINTS: ReadonlyMap<string, TrackingApiEndpoint> = new Map([
  ['/v1/track', single('track')],
  ['/v1/identify', single('identify')],
  ['/v1/group', single('group')],
  ['/v1/page', single('page')],
  ['/v1/screen', single('screen')],
  ['/v1/alias', single('alias')],
  ['/v1/batch', batch],
  ['/v1/import', batch],
  ['/v1/t', single('track')],
  ['/v1/i', single('identify')],
  ['/v1/g', single('group')],
  ['/v1/p', single('page')],
  ['/v1/s', single('screen')],
  ['/v1/a', single('alias')],
  ['/v1/b', batch],
]);

export const TRACKING_API_PATHS: readonly string[] = [...ENDPOINTS.keys()];

/** The endpoint at `path` (without its query string), or undefined when the path is not one of ours. */
export function trackingApiEndpoint(path: string): TrackingApiEndpoint | undefined {
  return ENDPOINTS.get(path);
}

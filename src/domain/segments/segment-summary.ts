/** What a segment's members add up to, the input of persona payloads and of the material-change decision. */
export interface SegmentSummary {
  readonly family: string;
  readonly segment: string;
  readonly label: string;
  readonly count: number;
  /** Per numeric summary field: the sum over members having it (or its default). */
  readonly sums: Readonly<Record<string, number>>;
  /** Per numeric summary field: sum / members having it; null when no member has it. */
  readonly averages: Readonly<Record<string, number | null>>;
  /** Per categorical summary field: the 3 most frequent values, count descending, ties alphabetical. */
  readonly top: Readonly<Record<string, readonly string[]>>;
  /** The 5 smallest member ids in code-unit order: deterministic whatever the order members arrived in. */
  readonly sampleIds: readonly string[];
}

export const TOP_K = 3;
export const SAMPLE_SIZE = 5;

/** Top `TOP_K` values of a value → count map: count descending, ties in code-unit order. */
export function topValues(counts: ReadonlyMap<string, number>): string[] {
  const best: [string, number][] = [];
  for (const entry of counts) {
    if (entry[1] <= 0) continue;
    let at = best.length;
    while (at > 0) {
      const previous = best[at - 1] as [string, number];
      if (previous[1] > entry[1] || (previous[1] === entry[1] && previous[0] < entry[0])) break;
      at--;
    }
    if (at < TOP_K) {
      best.splice(at, 0, entry);
      if (best.length > TOP_K) best.pop();
    }
  }
  return best.map(([value]) => value);
}

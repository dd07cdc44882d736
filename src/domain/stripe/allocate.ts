/**
 * Splits an integer `amount` across `weights` in proportion, in whole minor units, by largest remainder: each part
 * gets the floor of its exact share, and the units left over go one each to the largest fractional remainders, ties
 * to the earlier index. Parts sum to `amount` exactly; with all weights 0 everything is 0.
 * `amount` must not exceed the sum of weights when each part must stay within its weight.
 */
export function allocateByLargestRemainder(amount: number, weights: readonly number[]): number[] {
  const parts = new Array<number>(weights.length).fill(0);
  let weightSum = 0;
  for (const weight of weights) weightSum += weight;
  if (weightSum <= 0 || amount <= 0) return parts;

  const remainders = new Array<number>(weights.length).fill(0);
  let allocated = 0;
  for (let i = 0; i < weights.length; i++) {
    const exact = (amount * (weights[i] ?? 0)) / weightSum;
    const floor = Math.floor(exact + 1e-9);
    parts[i] = floor;
    remainders[i] = exact - floor;
    allocated += floor;
  }
  let leftover = amount - allocated;
  while (leftover > 0) {
    let best = -1;
    for (let i = 0; i < remainders.length; i++) {
      if ((weights[i] ?? 0) <= 0) continue;
      if (best === -1 || (remainders[i] ?? 0) > (remainders[best] ?? 0)) best = i;
    }
    if (best === -1) break;
    parts[best] = (parts[best] ?? 0) + 1;
    remainders[best] = -1;
    leftover--;
  }
  return parts;
}

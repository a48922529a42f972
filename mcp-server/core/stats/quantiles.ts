import { binomialQuantile } from "./numeric.js";

// Percentiles from histogram bucket counts. Buckets follow the Prometheus convention: bucket i
// counts values in (bounds[i-1], bounds[i]], the last one everything above the last bound.
// Within a bucket, values are taken as spread evenly (linear interpolation, as histogram_quantile
// does). The first bucket starts at 0 when its bound is positive (latencies, sizes), else it is a
// point at its bound. The overflow bucket has no upper edge: a value there is reported as the last
// bound, with `openEnded` set, so a reader knows it is a floor.

export interface QuantileValue {
  value: number;
  /** The value lies in the overflow bucket: the true value is at least `value`. */
  openEnded: boolean;
}

function lowerEdge(bounds: ArrayLike<number>, i: number): number {
  if (i === 0) {
    const b0 = bounds[0]!;
    return Math.min(b0, 0);
  }
  return bounds[i - 1]!;
}

/**
 * The value below which `position` of the `total` samples lie (position in [0, total]), by linear
 * interpolation within the bucket that holds it.
 */
export function valueAtPosition(
  bounds: ArrayLike<number>,
  counts: ArrayLike<number>,
  position: number,
): QuantileValue {
  const buckets = bounds.length;
  let cumulative = 0;
  for (let i = 0; i < buckets; i++) {
    const c = counts[i]!;
    if (c > 0 && cumulative + c >= position) {
      const lo = lowerEdge(bounds, i);
      const hi = bounds[i]!;
      const frac = Math.min(1, Math.max(0, (position - cumulative) / c));
      return { value: lo + (hi - lo) * frac, openEnded: false };
    }
    cumulative += c;
  }
  const overflow = counts[buckets] ?? 0;
  if (overflow > 0) return { value: bounds[buckets - 1]!, openEnded: true };
  // No sample above the position: the highest non-empty bucket's upper edge.
  for (let i = buckets - 1; i >= 0; i--) if (counts[i]! > 0) return { value: bounds[i]!, openEnded: false };
  return { value: lowerEdge(bounds, 0), openEnded: false };
}

function totalOf(counts: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  return n;
}

/** Interpolated q-quantile (q in (0, 1)); null without samples. */
export function histogramQuantile(
  bounds: ArrayLike<number>,
  counts: ArrayLike<number>,
  q: number,
): QuantileValue | null {
  const n = totalOf(counts);
  if (n === 0) return null;
  return valueAtPosition(bounds, counts, q * n);
}

export interface QuantileInterval {
  low: number;
  high: number;
  /** The upper end lies in the overflow bucket (a floor, not a bound). */
  highOpenEnded: boolean;
  /** Order-statistic ranks behind the ends (1-based; 0 or n + 1 when the data cannot bound that side). */
  lowRank: number;
  highRank: number;
}

/**
 * Distribution-free interval for the q-quantile by the order-statistic method: with
 * K ~ Binomial(n, q) the number of samples at or below the quantile, X_(l) <= xi_q <= X_(u) with
 * probability at least `level` when l = F^-1((1 - level) / 2) and u = F^-1((1 + level) / 2) + 1
 * (e.g. Conover, "Practical Nonparametric Statistics", 3rd ed., 3.2). Order statistics are read
 * from the histogram by the same interpolation as the point estimate (the lower one at the lower
 * edge of its sample's share of the bucket, so the interval errs wide). No bootstrap: it is
 * unreliable for extreme quantiles. A fixed-sample interval over the data given.
 */
export function histogramQuantileInterval(
  bounds: ArrayLike<number>,
  counts: ArrayLike<number>,
  q: number,
  level: number,
): QuantileInterval | null {
  const n = totalOf(counts);
  if (n === 0) return null;
  const tail = (1 - level) / 2;
  const lowRank = binomialQuantile(tail, n, q);
  const highRank = binomialQuantile(1 - tail, n, q) + 1;
  const low = valueAtPosition(bounds, counts, Math.max(0, lowRank - 1));
  const high = valueAtPosition(bounds, counts, Math.min(n, highRank));
  return {
    low: low.value,
    high: high.value,
    highOpenEnded: high.openEnded || highRank > n,
    lowRank,
    highRank,
  };
}

import { normalCdf } from "./normal.js";
import type { Rng } from "./rng.js";

// Latency as a histogram, drawn directly as bucket counts: a Poisson number of requests spread over
// fixed buckets is a set of independent Poisson counts (thinning), one draw per bucket, so a
// minute at 10 000 rps costs the same as one at 100 rps.

/** 64 log-spaced upper bounds from 5 ms to 5 s (about 11.6% apart), like a fine Prometheus layout. */
export const LATENCY_BOUNDS: readonly number[] = Array.from({ length: 64 }, (_, i) =>
  Number((5 * 1000 ** (i / 63)).toFixed(2)),
);

/**
 * A latency distribution: a log-normal body (median 50 ms, sigma_log 0.7 puts p99 at about 255 ms),
 * optionally stretched or scaled, with optional mixtures for a slow tail and a heavy Pareto tail.
 */
export interface LatencyShape {
  medianMs: number;
  sigmaLog: number;
  /** Multiplies every latency (a cold start, an incident, a "p99 +10%" release). */
  scale: number;
  /** A share of requests from a slow log-normal component (moves p99.9 but hardly p99). */
  slow?: { share: number; medianMs: number; sigmaLog: number };
  /** A share of requests from a Pareto tail (x_m, alpha): rare very slow requests in both cohorts. */
  heavy?: { share: number; xmMs: number; alpha: number };
}

export const BASE_LATENCY: LatencyShape = { medianMs: 50, sigmaLog: 0.7, scale: 1 };

function logNormalCdf(x: number, median: number, sigma: number): number {
  if (x <= 0) return 0;
  return normalCdf(Math.log(x / median) / sigma);
}

function paretoCdf(x: number, xm: number, alpha: number): number {
  return x <= xm ? 0 : 1 - (xm / x) ** alpha;
}

/** P(latency <= x) under the shape. */
export function latencyCdf(shape: LatencyShape, x: number): number {
  const y = x / shape.scale;
  const slowShare = shape.slow?.share ?? 0;
  const heavyShare = shape.heavy?.share ?? 0;
  let p = (1 - slowShare - heavyShare) * logNormalCdf(y, shape.medianMs, shape.sigmaLog);
  if (shape.slow) p += slowShare * logNormalCdf(y, shape.slow.medianMs, shape.slow.sigmaLog);
  if (shape.heavy) p += heavyShare * paretoCdf(y, shape.heavy.xmMs, shape.heavy.alpha);
  return p;
}

const probabilityCache = new Map<string, Float64Array>();

/** Probability of each bucket (bounds.length + 1 entries, the last above the last bound). */
export function bucketProbabilities(shape: LatencyShape): Float64Array {
  const key = JSON.stringify(shape);
  const cached = probabilityCache.get(key);
  if (cached) return cached;
  const probs = new Float64Array(LATENCY_BOUNDS.length + 1);
  let prev = 0;
  LATENCY_BOUNDS.forEach((b, i) => {
    const c = latencyCdf(shape, b);
    probs[i] = Math.max(0, c - prev);
    prev = c;
  });
  probs[LATENCY_BOUNDS.length] = Math.max(0, 1 - prev);
  probabilityCache.set(key, probs);
  return probs;
}

/** Bucket counts for a Poisson number of requests with the given mean. */
export function drawLatencyCounts(rng: Rng, meanRequests: number, shape: LatencyShape): number[] {
  const probs = bucketProbabilities(shape);
  const counts = new Array<number>(probs.length);
  for (let i = 0; i < probs.length; i++) counts[i] = rng.poisson(meanRequests * probs[i]!);
  return counts;
}

/** The q-quantile (0 < q < 1) by linear interpolation inside its bucket, as histogram_quantile does. */
export function histogramQuantile(
  counts: readonly number[],
  q: number,
  bounds: readonly number[] = LATENCY_BOUNDS,
): number {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (seen + c >= rank && c > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + ((upper - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return bounds[bounds.length - 1]!;
}

/** Index of the lowest bound at or above x (bounds.length when x is above every bound). */
export function boundIndexAtOrAbove(x: number, bounds: readonly number[] = LATENCY_BOUNDS): number {
  for (let i = 0; i < bounds.length; i++) if (bounds[i]! >= x) return i;
  return bounds.length;
}

/** Samples above bounds[index] (the buckets after it). */
export function countAbove(counts: readonly number[], index: number): number {
  let s = 0;
  for (let i = index + 1; i < counts.length; i++) s += counts[i]!;
  return s;
}

import type { StepStart, StoredSlice } from "../../mcp-server/core/deployment.js";
import { normalCdf } from "../../mcp-server/core/stats/numeric.js";
import { Random } from "./random.js";

// Simulated canary traffic as stored slices, for the judge's tests and benchmark: requests per
// cohort per minute ~ Poisson(rps x 60 x share), errors ~ Binomial(requests, rate), latency
// histograms from a log-normal body (optionally with a slow tail component) as independent
// Poisson bucket counts (a Poisson number of requests thinned into buckets). One seed, same draws.

export const T0 = Date.parse("2026-05-26T10:00:00Z");
export const MINUTE = 60_000;

/** Bounds (ms) roughly log-spaced from 1 ms to 10 s. */
export const LATENCY_BOUNDS: readonly number[] = [
  1, 2, 3, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 75, 100, 125, 150, 175, 200, 250, 300, 350, 400, 500, 600,
  750, 1000, 1500, 2000, 3000, 5000, 10000,
];

export interface LatencyShape {
  /** Median of the log-normal body (ms). */
  median: number;
  sigma: number;
  /** Optional slow component: weight in (0, 1) and its own median and sigma. */
  tail?: { weight: number; median: number; sigma: number };
}

export interface Cohorts<T> {
  canary: T;
  control: T;
}

export interface SimulationOptions {
  seed: number;
  start?: number;
  /** Canary percent per step and how long it lasts (minutes). */
  ladder: { percent: number; minutes: number }[];
  /** Total requests per second across both cohorts. */
  rps: number | ((minute: number) => number);
  /** Error rate per cohort at a minute (the canary's may depend on the percent). */
  errorRate: (minute: number, percent: number) => Cohorts<number>;
  latency?: { bounds?: readonly number[]; shape: (minute: number, percent: number) => Cohorts<LatencyShape> };
  /** Distinct units per slice as a fraction of requests (absent: no units). */
  unitsPerRequest?: number;
  /** The canary's real share as a multiple of the configured one (a broken split). */
  shareFactor?: number;
  /**
   * Each failing request is followed by Geometric(mean) failing retries in its own cohort; the
   * first failures come at rate / (1 + mean), so the overall error rate stays at `errorRate`.
   */
  retryMean?: number;
}

export interface Simulation {
  slices: StoredSlice[];
  steps: StepStart[];
  /** End of the last slice. */
  end: number;
}

function bucketProbabilities(bounds: readonly number[], shape: LatencyShape): number[] {
  const cdf = (b: number, median: number, sigma: number) =>
    normalCdf((Math.log(b) - Math.log(median)) / sigma);
  const mixed = (b: number) => {
    const body = cdf(b, shape.median, shape.sigma);
    if (!shape.tail) return body;
    return (1 - shape.tail.weight) * body + shape.tail.weight * cdf(b, shape.tail.median, shape.tail.sigma);
  };
  const probs: number[] = [];
  let previous = 0;
  for (const b of bounds) {
    const c = mixed(b);
    probs.push(Math.max(0, c - previous));
    previous = c;
  }
  probs.push(Math.max(0, 1 - previous));
  return probs;
}

/** Bucket counts for about n requests of the given shape. */
export function latencyCounts(
  rng: Random,
  n: number,
  bounds: readonly number[],
  shape: LatencyShape,
): number[] {
  return bucketProbabilities(bounds, shape).map((p) => rng.poisson(n * p));
}

export function simulateDeployment(opts: SimulationOptions): Simulation {
  const rng = new Random(opts.seed);
  const start = opts.start ?? T0;
  const slices: StoredSlice[] = [];
  const steps: StepStart[] = [];
  let minute = 0;
  opts.ladder.forEach((rung, index) => {
    steps.push({ step: index, percent: rung.percent, startedAt: start + minute * MINUTE });
    for (let i = 0; i < rung.minutes; i++, minute++) {
      const rps = typeof opts.rps === "function" ? opts.rps(minute) : opts.rps;
      const share = Math.min(1, (rung.percent / 100) * (opts.shareFactor ?? 1));
      const rates = opts.errorRate(minute, rung.percent);
      const shapes = opts.latency?.shape(minute, rung.percent);
      for (const cohort of ["canary", "control"] as const) {
        let requests = rng.poisson(rps * 60 * (cohort === "canary" ? share : 1 - share));
        let errors: number;
        if (opts.retryMean === undefined) errors = rng.binomial(requests, rates[cohort]);
        else {
          const first = rng.binomial(requests, rates[cohort] / (1 + opts.retryMean));
          // A sum of `first` Geometric(mean) counts is Poisson with a Gamma(first, mean) rate.
          const retries = first > 0 ? rng.poisson(rng.gamma(first) * opts.retryMean) : 0;
          errors = first + retries;
          requests += retries;
        }
        const slice: StoredSlice = {
          t: start + minute * MINUTE,
          cohort,
          dimsKey: "",
          counters: { http_requests: requests, http_errors: errors },
          histograms: {},
          moments: {},
        };
        if (shapes) {
          const bounds = opts.latency?.bounds ?? LATENCY_BOUNDS;
          slice.histograms.http_latency_ms = {
            bounds: [...bounds],
            counts: latencyCounts(rng, requests, bounds, shapes[cohort]),
          };
        }
        if (opts.unitsPerRequest !== undefined) slice.units = Math.round(requests * opts.unitsPerRequest);
        slices.push(slice);
      }
    }
  });
  return { slices, steps, end: start + minute * MINUTE };
}

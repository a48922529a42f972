import type { Slice } from "../../mcp-server/core/slice.js";

/** mulberry32: a small seeded PRNG, so every test run draws the same traffic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson draw: inversion for small means, a rounded normal for large ones (good enough for traffic). */
export function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < 50) {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = random();
    while (p > limit) {
      k++;
      p *= random();
    }
    return k;
  }
  const u = Math.max(random(), 1e-12);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
}

export const LATENCY_BOUNDS = [
  5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 100, 125, 150, 175, 200, 250, 300, 400, 500, 750, 1000, 2000,
];

function normalCdf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is plenty for generating test traffic.
  const t = 1 / (1 + 0.3275911 * Math.abs(x / Math.SQRT2));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/** Bucket probabilities of a log-normal latency (median ms, sigma of the log), times a multiplier. */
function latencyBuckets(median: number, sigma: number): number[] {
  const cdf = LATENCY_BOUNDS.map((b) => normalCdf((Math.log(b) - Math.log(median)) / sigma));
  return [...cdf.map((c, i) => c - (i === 0 ? 0 : cdf[i - 1]!)), 1 - cdf[cdf.length - 1]!];
}

export interface CohortBehaviour {
  errorRate: number;
  /** Median latency in ms (log-normal, sigma 0.7: median 50 gives p99 near 250). */
  latencyMedian?: number;
}

export interface TrafficOptions {
  /** Slice starts, ms. */
  from: number;
  to: number;
  sliceMs?: number;
  rps: number;
  /** Canary percent at a slice start. */
  percentAt: (t: number) => number;
  behaviour: (t: number, cohort: "canary" | "control") => CohortBehaviour;
  seed: number;
  /** Canary share actually routed, as a multiple of the configured share (1 = healthy split). */
  splitSkew?: number;
  deploymentId?: string;
}

/** Per-slice, per-cohort counters and latency buckets for a service under a canary. */
export function trafficSlices(o: TrafficOptions): Slice[] {
  const random = rng(o.seed);
  const width = o.sliceMs ?? 60_000;
  const out: Slice[] = [];
  for (let t = o.from; t < o.to; t += width) {
    const share = Math.min(1, (o.percentAt(t) / 100) * (o.splitSkew ?? 1));
    for (const cohort of ["canary", "control"] as const) {
      const mean = o.rps * (width / 1000) * (cohort === "canary" ? share : 1 - share);
      const requests = poisson(random, mean);
      const b = o.behaviour(t, cohort);
      const errors = Math.min(requests, poisson(random, requests * b.errorRate));
      const slice: Slice = {
        t: new Date(t).toISOString(),
        cohort,
        counters: { http_requests: requests, http_errors: errors },
      };
      if (o.deploymentId) slice.deployment_id = o.deploymentId;
      if (b.latencyMedian !== undefined) {
        const probs = latencyBuckets(b.latencyMedian, 0.7);
        slice.histograms = {
          http_latency_ms: {
            bounds: LATENCY_BOUNDS,
            counts: probs.map((p) => poisson(random, requests * p)),
          },
        };
      }
      slice.units = Math.round(requests / 3);
      out.push(slice);
    }
  }
  return out;
}

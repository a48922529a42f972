import type { Slice } from "../../mcp-server/core/slice.js";
import { latencyCounts } from "./canary-sim.js";
import { Random } from "./random.js";

/** Latency bounds (ms) of the simulated service's histogram. */
export const SERVICE_LATENCY_BOUNDS = [
  5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 100, 125, 150, 175, 200, 250, 300, 400, 500, 750, 1000, 2000,
];

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
  const random = new Random(o.seed);
  const width = o.sliceMs ?? 60_000;
  const out: Slice[] = [];
  for (let t = o.from; t < o.to; t += width) {
    const share = Math.min(1, (o.percentAt(t) / 100) * (o.splitSkew ?? 1));
    for (const cohort of ["canary", "control"] as const) {
      const mean = o.rps * (width / 1000) * (cohort === "canary" ? share : 1 - share);
      const requests = random.poisson(mean);
      const b = o.behaviour(t, cohort);
      const errors = Math.min(requests, random.poisson(requests * b.errorRate));
      const slice: Slice = {
        t: new Date(t).toISOString(),
        cohort,
        counters: { http_requests: requests, http_errors: errors },
      };
      if (o.deploymentId) slice.deployment_id = o.deploymentId;
      if (b.latencyMedian !== undefined) {
        const counts = latencyCounts(random, requests, SERVICE_LATENCY_BOUNDS, {
          median: b.latencyMedian,
          sigma: 0.7,
        });
        slice.histograms = { http_latency_ms: { bounds: SERVICE_LATENCY_BOUNDS, counts } };
      }
      slice.units = Math.round(requests / 3);
      out.push(slice);
    }
  }
  return out;
}

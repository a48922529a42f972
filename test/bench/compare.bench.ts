import { pathToFileURL } from "node:url";
import { compareMetrics } from "../../mcp-server/core/compare/index.js";
import type { JudgeContext, StepStart, StoredSlice } from "../../mcp-server/core/deployment.js";
import { type PolicyInput, policySchema } from "../../mcp-server/core/policy/schema.js";
import { latencyCounts } from "../support/canary-sim.js";
import { Random } from "../support/random.js";

// How long one compare_metrics takes on a long deployment: a 4 h ladder (1/5/25/50% at 60 min
// each) of 1-minute slices, 20 metrics: 10 ratio metrics and 10 histograms of 64 buckets
// (percentiles 50/90/99), 1 000 requests per second. The time is the median of several rounds of
// a full compare (merge, hash, every test, intervals), after warm-up rounds. Target: under 50 ms.
// On a busy machine the fastest round is the better guide to the code's own cost.

const T0 = Date.parse("2026-05-26T10:00:00Z");
const MINUTE = 60_000;
const LADDER = [1, 5, 25, 50];
const STEP_MINUTES = 60;
const RPS = 1_000;
const HISTOGRAMS = 10;
const RATIOS = 10;
const BUCKETS = 64;

/** 64 bounds, log-spaced from 1 ms to 10 s. */
const BOUNDS = Array.from({ length: BUCKETS }, (_, i) =>
  Number((10 ** ((4 * i) / (BUCKETS - 1))).toPrecision(3)),
);

export function benchPolicy() {
  const metrics: PolicyInput["metrics"] = [];
  for (let i = 0; i < RATIOS; i++) {
    metrics.push({
      name: `errors_${i}`,
      type: "ratio",
      events: `errors_${i}`,
      trials: "requests",
      bad: "increase",
      tolerance: { relative: 0 },
      margin: { relative: 0.5 },
    });
  }
  for (let i = 0; i < HISTOGRAMS; i++) {
    metrics.push({
      name: `latency_${i}`,
      type: "histogram",
      series: `latency_${i}`,
      bad: "increase",
      tolerance: { relative: 0.1 },
    });
  }
  return policySchema.parse({
    service: "bench",
    ladder: [...LADDER.map((percent) => ({ percent, window: `${STEP_MINUTES}m` })), { percent: 100 }],
    metrics,
  });
}

export function benchData(seed = 1): { slices: StoredSlice[]; steps: StepStart[]; end: number } {
  const rng = new Random(seed);
  const slices: StoredSlice[] = [];
  const steps: StepStart[] = LADDER.map((percent, step) => ({
    step,
    percent,
    startedAt: T0 + step * STEP_MINUTES * MINUTE,
  }));
  let minute = 0;
  for (const percent of LADDER) {
    for (let i = 0; i < STEP_MINUTES; i++, minute++) {
      for (const cohort of ["canary", "control"] as const) {
        const share = cohort === "canary" ? percent / 100 : 1 - percent / 100;
        const requests = rng.poisson(RPS * 60 * share);
        const counters: Record<string, number> = { requests };
        for (let k = 0; k < RATIOS; k++) counters[`errors_${k}`] = rng.binomial(requests, 0.002 * (k + 1));
        const histograms: StoredSlice["histograms"] = {};
        for (let k = 0; k < HISTOGRAMS; k++) {
          histograms[`latency_${k}`] = {
            bounds: BOUNDS,
            counts: latencyCounts(rng, requests, BOUNDS, { median: 20 + 10 * k, sigma: 0.7 }),
          };
        }
        slices.push({ t: T0 + minute * MINUTE, cohort, dimsKey: "", counters, histograms, moments: {} });
      }
    }
  }
  return { slices, steps, end: T0 + minute * MINUTE };
}

export async function runCompareBench(rounds = 15, warmup = 3): Promise<{ medianMs: number; minMs: number }> {
  const policy = benchPolicy();
  const data = benchData();
  const ctx: JudgeContext = {
    deploymentId: "bench",
    policy,
    steps: data.steps,
    state: "canary",
    at: data.end,
  };
  const times: number[] = [];
  for (let i = 0; i < warmup + rounds; i++) {
    const start = performance.now();
    compareMetrics(ctx, data.slices);
    const ms = performance.now() - start;
    if (i >= warmup) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)]!, minMs: times[0]! };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { medianMs, minMs } = await runCompareBench();
  console.log(
    `compare_metrics, 4 h of 1-minute slices, ${RATIOS + HISTOGRAMS} metrics (${HISTOGRAMS} histograms of ${BUCKETS} buckets): median ${medianMs.toFixed(1)} ms, fastest ${minMs.toFixed(1)} ms (target < 50 ms)`,
  );
}

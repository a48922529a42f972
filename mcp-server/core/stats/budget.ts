import { durationMs } from "../duration.js";
import type { MetricPolicy, Policy } from "../policy/schema.js";
import { HARM_GRID_LOG_WEIGHTS } from "./ratio-evidence.js";

// How the false-alarm budget alpha is spent (docs/statistics.md "Many metrics, one decision").
//
// Rollback is a union ("any metric worse"), so each rollback test gets a share of alpha and rolls
// back when its e-value reaches M / alpha (Bonferroni on e-values: valid at any time, whatever the
// dependence between metrics). M counts the critical metrics' statistics, each histogram
// percentile as one. Never BH/FDR here: one false rollback is the failure.
//
// Segments: a metric with `dims` splits its share in two, half for the whole cohort and half for
// its segments, and the segments' half is divided over dims x max_segments, fixed in advance
// (not the number of segments that happen to appear).
//
// Non-critical metrics hold instead of rolling back; they are tested at the same per-test level as
// a critical statistic so a row means the same evidence whatever the flag, and do not dilute M.
//
// Promotion is an intersection (every guardrail non-inferior), so each margin test runs at alpha
// on the current step's own data (Schultzberg, Ankargren & Franberg, "Risk-aware product decisions
// in A/B tests with multiple metrics", 2024).
//
// The split check never rolls back by itself (a mismatch holds; the policy may escalate), so it
// has its own alpha rather than a share of the rollback budget: threshold 1 / alpha, restarted at
// each step like the margin tests.
//
// Over time: the harm tests mix restarts at each canary step (see RestartingRatioEvidence): 0.9 of
// the weight on the whole-deployment test, 0.1 spread evenly over the later steps. First measured
// on the error test alone (threshold 20, ladder 1/5/25/50% at 60 min, 1-minute slices, 300 seeds):
//   whole deployment only: x2 at 100 rps median 39 min; x1.5 starting at the 25% step, 100 rps,
//                          median 19 min after it starts (the no-harm evidence of the first two
//                          steps has to be paid back first)
//   3/4 + restarts:        40 min;  12 min
//   1/2 + restarts:        43 min;  11 min
// Then in the judge benchmark with the dispersion weighting (npm run bench:judge -- --judges ours
// --scenario err-x2 --scenario err-x2-from-25 --traffic 100 --looks 1 --replicates 1000; x2 from
// the start / x2 from the 25% step, median minutes):
//   3/4 + restarts:        36 min;  6 min
//   0.9 + restarts:        34 min;  7 min
// The burst defences of stats/dispersion.ts judge a slice's excess within its step, which is what
// keeps the late regression quick with them.
// A/A false alarms stayed below alpha throughout. The restart only needs a little weight because
// a late regression at a larger share brings a lot of data; the whole-deployment test keeps the
// early steps' evidence, which is what catches a regression at 1% and 5%.

/** Statistics a metric reports and tests: "rate", "p99", "mean", "throughput". */
export function statisticsOf(metric: MetricPolicy): string[] {
  switch (metric.type) {
    case "ratio":
      return [metric.bad === "decrease" ? "complement_rate" : "rate"];
    case "histogram":
      return metric.percentiles.map(percentileLabel);
    case "mean":
      return ["mean"];
    case "throughput":
      return ["throughput"];
  }
}

/** "p99", "p99.9", "p50" */
export function percentileLabel(percentile: number): string {
  return `p${Number(percentile.toPrecision(12))}`;
}

const testCounts = new WeakMap<Policy, number>();

/** M: rollback tests in the policy (critical metrics x their statistics), at least 1. */
export function rollbackTestCount(policy: Policy): number {
  const known = testCounts.get(policy);
  if (known !== undefined) return known;
  let m = 0;
  for (const metric of policy.metrics) if (metric.critical) m += statisticsOf(metric).length;
  const count = Math.max(1, m);
  testCounts.set(policy, count);
  return count;
}

/** Share of a segmented metric's budget kept for the whole cohort. */
export const WHOLE_COHORT_SHARE = 0.5;

/** The e-value a harm (or improvement) test must reach: the inverse of its alpha share. */
export function harmThreshold(policy: Policy, metric: MetricPolicy, segment: boolean): number {
  const base = rollbackTestCount(policy) / policy.alpha;
  const dims = metric.dims?.length ?? 0;
  if (dims === 0) return base;
  if (!segment) return base / WHOLE_COHORT_SHARE;
  return (base * dims * policy.max_segments) / (1 - WHOLE_COHORT_SHARE);
}

/** The e-value a non-inferiority (margin) test must reach on the current step. */
export function marginThreshold(policy: Policy): number {
  return 1 / policy.alpha;
}

/** The e-value the split check must reach on the current step. */
export function splitThreshold(policy: Policy): number {
  return 1 / policy.alpha;
}

/**
 * How often a policy must look for the harm tests to weigh the grid where regressions are. The
 * prior (HARM_GRID_LOG_WEIGHTS) makes a x2 at 100 rps cross about 8 minutes sooner (36 -> 28 at
 * 1-minute looks); a look every
 * 15 minutes rarely sees that gain (x2 at 100 rps: 45 minutes with or without it, the third look),
 * while healthy releases pay for it at every cadence (A/A at 15-minute looks and 100 rps: 0.7% ->
 * 1.05-1.13%, over the 1% target). So only policies that look at least every 5 minutes use it
 * (docs/judge-benchmark.md "Round 5"). Chosen from the policy before any data: either weighting
 * is a fixed mixture, and the test stays a test supermartingale.
 */
export const FREQUENT_LOOK_MS = 5 * 60_000;

/** Whether the policy's checks come often enough for the harm prior (see FREQUENT_LOOK_MS). */
export function looksOften(policy: Policy): boolean {
  return durationMs(policy.check_every) <= FREQUENT_LOOK_MS;
}

/** The harm tests' weights over the ratio grid: the prior when the policy looks often, else even (null). */
export function harmGridLogWeights(policy: Policy): Float64Array | null {
  return looksOften(policy) ? HARM_GRID_LOG_WEIGHTS : null;
}

/**
 * Weight of the whole-deployment harm test among the restarts: 0.9 (measured above), 0.97 with the
 * harm prior (measured with it, bump at 2.3x, 1-minute looks, docs/judge-benchmark.md "Round 5": 0.9
 * made x2 at 100 rps 28 minutes instead of 27 and x5 6 instead of 5).
 */
export const WHOLE_DEPLOYMENT_WEIGHT = 0.9;
export const WHOLE_DEPLOYMENT_WEIGHT_LOOKING_OFTEN = 0.97;

/**
 * Weights of the harm tests' restarts, one per canary step (every rung but the last, 100%):
 * restart 0 is the whole deployment.
 */
export function restartWeights(policy: Policy): number[] {
  const canarySteps = Math.max(1, policy.ladder.length - 1);
  if (canarySteps === 1) return [1];
  const whole = looksOften(policy) ? WHOLE_DEPLOYMENT_WEIGHT_LOOKING_OFTEN : WHOLE_DEPLOYMENT_WEIGHT;
  const rest = (1 - whole) / (canarySteps - 1);
  return Array.from({ length: canarySteps }, (_, j) => (j === 0 ? whole : rest));
}

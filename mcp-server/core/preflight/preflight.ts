import { z } from "zod";
import { createJudge } from "../compare/judge.js";
import type { StoredSlice } from "../deployment.js";
import { durationMs, formatDuration } from "../duration.js";
import { seriesNameSchema } from "../ids.js";
import { orNull } from "../nullable.js";
import type { MetricPolicy, Policy } from "../policy/schema.js";

// The power check: before a canary starts, would each rung's window gather enough data to prove
// its guardrails within their margins at the expected traffic? It feeds the real judge the data
// one would expect if canary and control behaved the same (expected counts, no noise) and reads
// back whether and when each margin is proven, so it answers with the product's own statistics
// rather than a separate formula. Real data is noisy: about half the time proof comes later.

export const preflightTrafficSchema = z.strictObject({
  requests_per_minute: z
    .number()
    .positive()
    .describe("Traffic eligible for the canary (canary + control), per minute"),
  baselines: z
    .record(seriesNameSchema, z.number().gt(0).lt(1))
    .optional()
    .describe(
      "Expected rate of each ratio metric, events / trials, by metric name (an error rate of 0.002, a cache hit rate of 0.9); when omitted, 1% bad outcomes: 0.01 for `bad: increase`, 0.99 for `bad: decrease`",
    ),
});
export type PreflightTraffic = z.infer<typeof preflightTrafficSchema>;

const CANDIDATE_PERCENTS = [1, 2, 5, 10, 25, 50] as const;
const DEFAULT_BAD_RATE = 0.01;
/** How far past a window to look for the time proof would come. */
const HORIZON_FACTOR = 8;

export const preflightCheckSchema = z.object({
  metric: z.string(),
  statistic: z.string(),
  provable_in_window: z.boolean(),
  proven_after: orNull(z.string()).describe(
    "How long this rung would take to prove the margin at this percent",
  ),
  canary_samples_in_window: z.number(),
  note: z.string(),
});

export const preflightRungSchema = z.object({
  step: z.number().int(),
  percent: z.number(),
  window: z.string(),
  checks: z.array(preflightCheckSchema),
  suggestion: orNull(z.string()),
});

export const preflightResultSchema = z.object({
  ok: z.boolean().describe("Every checked guardrail is provable within every rung's window"),
  rungs: z.array(preflightRungSchema),
  not_checked: z
    .array(z.string())
    .describe("Metrics the check cannot model without data (means, throughput)"),
  assumptions: z.array(z.string()),
});
export type PreflightResult = z.infer<typeof preflightResultSchema>;

interface Probe {
  metric: MetricPolicy & { type: "ratio" };
  /** Expected events / trials, the metric's own rate (a hit rate for a cache, not its miss rate). */
  rate: number;
}

/** The default rate: 1% bad outcomes, which is a 99% rate when the events are the good ones. */
function defaultRate(metric: MetricPolicy & { type: "ratio" }): number {
  return metric.bad === "increase" ? DEFAULT_BAD_RATE : 1 - DEFAULT_BAD_RATE;
}

/** Expected (noise-free) slices for one rung: canary and control identical, at the given share. */
function expectedSlices(
  probes: Probe[],
  rpm: number,
  percent: number,
  sliceMs: number,
  until: number,
): StoredSlice[] {
  const share = percent / 100;
  const perSlice = rpm * (sliceMs / 60_000);
  const slices: StoredSlice[] = [];
  for (let t = 0; t < until; t += sliceMs) {
    for (const cohort of ["canary", "control"] as const) {
      const trials = perSlice * (cohort === "canary" ? share : 1 - share);
      const counters: Record<string, number> = {};
      for (const p of probes) {
        counters[p.metric.trials] = trials;
        counters[p.metric.events] = trials * p.rate;
      }
      slices.push({ t, cohort, dimsKey: "", counters, histograms: {}, moments: {} });
    }
  }
  return slices;
}

/** When each probe's whole-cohort margin is first proven (ms after the rung starts), within the horizon. */
function provenAfter(
  policy: Policy,
  probes: Probe[],
  rpm: number,
  percent: number,
  horizon: number,
): Map<string, number | null> {
  const sliceMs = durationMs(policy.slice);
  // Only the ratio guardrails under test: the others are not modelled here.
  const judged: Policy = {
    ...policy,
    metrics: probes.map((p) => ({ ...p.metric, dims: undefined })),
    ladder: [{ percent, window: formatDuration(horizon) }, { percent: 100 }],
  };
  const judge = createJudge({
    deploymentId: "preflight",
    policy: judged,
    steps: [{ step: 0, percent, startedAt: 0 }],
    state: "canary",
  });
  const found = new Map<string, number | null>(probes.map((p) => [p.metric.name, null]));
  for (const slice of expectedSlices(probes, rpm, percent, sliceMs, horizon)) judge.addSlice(slice);
  for (let at = sliceMs; at <= horizon; at += sliceMs) {
    const report = judge.report(at, { intervals: false, hash: false });
    for (const row of report.rows) {
      if (row.segment || !row.judged || found.get(row.metric) !== null) continue;
      if (row.margin_proven) found.set(row.metric, at);
    }
    if ([...found.values()].every((v) => v !== null)) break;
  }
  return found;
}

function tailCheck(metric: MetricPolicy & { type: "histogram" }, canarySamples: number) {
  return metric.percentiles.map((q) => {
    const tail = canarySamples * (1 - q / 100);
    const enough = tail >= 25;
    return {
      metric: metric.name,
      statistic: `p${q}`,
      provable_in_window: enough,
      proven_after: null,
      canary_samples_in_window: Math.round(canarySamples),
      note: enough
        ? `about ${Math.round(tail)} canary samples above p${q} in the window (25 needed to judge it); proving the margin needs more, depending on the latency distribution`
        : `only about ${tail.toFixed(1)} canary samples above p${q} in the window: it will be insufficient_data (25 needed)`,
    };
  });
}

export function preflightPolicy(policy: Policy, traffic: PreflightTraffic): PreflightResult {
  const probes: Probe[] = policy.metrics
    .filter((m): m is MetricPolicy & { type: "ratio" } => m.type === "ratio" && m.critical)
    .map((metric) => ({ metric, rate: traffic.baselines?.[metric.name] ?? defaultRate(metric) }));
  const histograms = policy.metrics.filter(
    (m): m is MetricPolicy & { type: "histogram" } => m.type === "histogram" && m.critical,
  );
  const notChecked = policy.metrics
    .filter((m) => m.critical && (m.type === "mean" || m.type === "throughput"))
    .map((m) => m.name);
  const assumptions = [
    `${traffic.requests_per_minute} requests per minute eligible for the canary, steady`,
    "canary and control behave the same (the check asks whether a healthy release could be promoted on time)",
    ...probes
      .filter((p) => traffic.baselines?.[p.metric.name] === undefined)
      .map(
        (p) =>
          `${p.metric.name}: baseline rate (events / trials) ${Number((p.rate * 100).toPrecision(3))}%, that is ${DEFAULT_BAD_RATE * 100}% bad outcomes (pass baselines to set it)`,
      ),
  ];
  const rungs = policy.ladder.slice(0, -1).map((rung, step) => {
    const window = durationMs(rung.window!);
    const horizon = window * HORIZON_FACTOR;
    const times = provenAfter(policy, probes, traffic.requests_per_minute, rung.percent, horizon);
    const canaryInWindow = traffic.requests_per_minute * (window / 60_000) * (rung.percent / 100);
    const checks = [
      ...probes.map((p) => {
        const after = times.get(p.metric.name) ?? null;
        const inWindow = after !== null && after <= window;
        return {
          metric: p.metric.name,
          statistic: "rate",
          provable_in_window: inWindow,
          proven_after: after === null ? null : formatDuration(after),
          canary_samples_in_window: Math.round(canaryInWindow),
          note: inWindow
            ? `margin proven after about ${formatDuration(after!)} of the ${rung.window} window`
            : after === null
              ? `not proven within ${formatDuration(horizon)} at ${rung.percent}%`
              : `needs about ${formatDuration(after)} at ${rung.percent}%, longer than the ${rung.window} window`,
        };
      }),
      ...histograms.flatMap((h) => tailCheck(h, canaryInWindow)),
    ];
    const failing = checks.filter((c) => !c.provable_in_window);
    let suggestion: string | null = null;
    if (failing.some((c) => c.statistic === "rate")) {
      const better = CANDIDATE_PERCENTS.filter((p) => p > rung.percent).find((p) => {
        const t = provenAfter(policy, probes, traffic.requests_per_minute, p, window);
        return [...t.values()].every((v) => v !== null && v <= window);
      });
      const slowest = Math.max(...probes.map((p) => times.get(p.metric.name) ?? Number.POSITIVE_INFINITY));
      suggestion = [
        better ? `use ${better}% for this rung` : "no rung of 50% or less proves it within this window",
        Number.isFinite(slowest) ? `or a window of at least ${formatDuration(slowest)}` : "or a wider margin",
      ].join(", ");
    } else if (failing.length) {
      suggestion =
        "percentiles listed as insufficient will hold this rung: use a larger percent, a longer window, or drop the extreme percentile";
    }
    return { step, percent: rung.percent, window: rung.window!, checks, suggestion };
  });
  return {
    ok: rungs.every((r) => r.checks.every((c) => c.provable_in_window)),
    rungs,
    not_checked: notChecked,
    assumptions,
  };
}

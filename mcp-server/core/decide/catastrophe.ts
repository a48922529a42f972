import type { MetricPolicy } from "../policy/schema.js";
import type { Report, Row } from "../report.js";
import type { Finding } from "./classify-row.js";
import { formatCount, formatNumber, formatRate } from "./format.js";

// The catastrophe net: an absolute limit with a minimum-count guard, checked besides the test. It
// needs no comparison with control (a canary failing half its requests is enough), which is why
// the count guard matters: at 1% of 100 rps one error in the first minute reads as a 1.7% rate.
// It applies to the whole cohort's row and to critical and non-critical metrics alike: a limit
// written into the policy is a rollback the team asked for.

/** The statistic name a metric's catastrophe limit applies to ("p99.9" for histograms). */
export function catastropheStatistic(metric: MetricPolicy): string | undefined {
  if (metric.type === "histogram") {
    return metric.catastrophe?.percentile !== undefined ? `p${metric.catastrophe.percentile}` : undefined;
  }
  return undefined;
}

function catastropheRow(report: Report, metric: MetricPolicy): Row | undefined {
  const statistic = catastropheStatistic(metric);
  return report.rows.find(
    (r) =>
      r.metric === metric.name &&
      r.segment === undefined &&
      r.judged &&
      (statistic === undefined ? !r.statistic.startsWith("segment_") : r.statistic === statistic),
  );
}

export function checkCatastrophe(report: Report, metric: MetricPolicy): Finding | undefined {
  const limit = metric.catastrophe;
  if (!limit) return undefined;
  const row = catastropheRow(report, metric);
  const shown = row?.canary.value;
  if (!row || shown === null || shown === undefined) return undefined;
  // A ratio with bad: decrease is reported as its complement (failures, not successes); the limit
  // is written on the metric itself (e.g. success rate below 0.9).
  const value = row.statistic === "complement_rate" ? 1 - shown : shown;
  if (row.canary.count < limit.min_count) return undefined;
  const crossed = metric.bad === "increase" ? value > limit.limit : value < limit.limit;
  if (!crossed) return undefined;
  const show = metric.type === "ratio" ? formatRate : formatNumber;
  const stat = metric.type === "histogram" ? ` ${row.statistic}` : "";
  const side = metric.bad === "increase" ? "above" : "below";
  return {
    code: "catastrophe",
    metric: metric.name,
    segmentKey: "",
    message: `${metric.name}: canary${stat} ${show(value)} is ${side} the catastrophe limit ${show(limit.limit)} with ${formatCount(row.canary.count)} samples (guard: at least ${formatCount(limit.min_count)})`,
  };
}

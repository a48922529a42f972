import {
  compareMetricsInput,
  compareMetricsOutput,
  compareMetricsReport,
} from "../../operations/compare-metrics.js";
import { pullBefore } from "../../operations/pull-metrics.js";
import { defineTool } from "../tool.js";

export const compareMetricsTool = defineTool({
  name: "compare_metrics",
  title: "Compare canary and control",
  description:
    "The comparison report: per metric and statistic, canary vs control with anytime-valid intervals, evidence (e-value) against the threshold it must reach, and a status (regression, improvement, no_difference, inconclusive, insufficient_data, no_data), worst rows first, plus the traffic-split check. Read-only: never changes a deployment (a policy with a Prometheus source is queried first and the complete slices it returns are stored, so decisions replay from stored inputs).",
  input: compareMetricsInput,
  output: compareMetricsOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  run: async (ctx, input) => {
    await pullBefore(ctx, input);
    return compareMetricsReport(ctx, input);
  },
});

import { recordMetrics, recordMetricsInput, recordMetricsOutput } from "../../operations/record-metrics.js";
import { defineTool } from "../tool.js";

export const recordMetricsTool = defineTool({
  name: "record_metrics",
  title: "Record metric slices",
  description:
    "Stores per-cohort metric slices (counters, histogram buckets, moments; increments within each slice, never cumulative). All or nothing: a bad slice refuses the call naming its index and field. Counters that look like running totals, and events above trials, are refused. Slices from several pods add up when each names its `instance`; re-sending the same (cohort, t, dims, series, instance) replaces only that instance's contribution (without instance, the whole series), so retries are safe.",
  input: recordMetricsInput,
  output: recordMetricsOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: recordMetrics,
});

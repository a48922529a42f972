import { z } from "zod";
import { orNull } from "./nullable.js";

// The comparison report (compare_metrics; each field is explained in
// skills/canary-report/reference/fields.md). Its published fields keep their names; the rest is what decide and people need to act: which test, on what data, and what
// would change the outcome.

export const ROW_STATUSES = [
  "regression",
  "improvement",
  "no_difference",
  "inconclusive",
  "insufficient_data",
  "no_data",
] as const;
export const rowStatusSchema = z.enum(ROW_STATUSES);
export type RowStatus = z.infer<typeof rowStatusSchema>;

const nullableNumber = orNull(z.number());

export const cohortValueSchema = z.object({
  value: nullableNumber.describe("Point estimate (a rate, a percentile, a mean, a throughput)"),
  count: z.number().describe("Trials or samples behind it in the judged window"),
  events: z.number().optional().describe("Events (ratio metrics) or tail samples (percentiles)"),
  ci_low: nullableNumber.optional(),
  ci_high: nullableNumber.optional(),
});

export const rowSchema = z.object({
  metric: z.string(),
  statistic: z.string().describe("rate | p50 | p99.9 | mean | throughput | segment_error_rate_p90 ..."),
  segment: z
    .record(z.string(), z.string())
    .optional()
    .describe("The dims of a segment row; absent for the whole cohort"),
  canary: cohortValueSchema,
  control: cohortValueSchema,
  abs_diff: nullableNumber,
  rel_diff: nullableNumber,
  ci_low: nullableNumber.describe(
    "Lower end of the interval for the difference on the current step: an anytime-valid confidence sequence for rate, throughput and mean rows (same scale as rel_diff for rates), order-statistic bounds for percentiles; null when not computed",
  ),
  ci_high: nullableNumber,
  interval_scale: z.enum(["relative", "absolute"]).describe("Scale of ci_low/ci_high"),
  evidence: z.number().describe("Current e-value for harm beyond the tolerance (running maximum)"),
  threshold: z.number().describe("The e-value the evidence must reach to call a regression (M/alpha)"),
  status: rowStatusSchema,
  tolerance: z.number().describe("Rollback threshold in interval_scale units"),
  effective_tolerance: z.number().optional().describe("Tolerance after snapping to a histogram bucket bound"),
  effective_margin: z
    .number()
    .optional()
    .describe(
      "Margin after snapping to a histogram bucket bound (snapped down: never more lenient than the policy)",
    ),
  improvement_evidence: z
    .number()
    .optional()
    .describe(
      "E-value for 'canary better than control beyond the tolerance' (running maximum, same threshold)",
    ),
  margin: z.number().describe("Promotion (non-inferiority) threshold in interval_scale units"),
  margin_evidence: z.number().describe("E-value against 'harm above margin' on the current step's data"),
  margin_proven: z.boolean().describe("The current step's data rule out a harm larger than the margin"),
  judged: z
    .boolean()
    .describe("False for descriptive rows (excluded cohort, segment distributions): never decide on them"),
  critical: z.boolean(),
  samples_needed: orNull(z.number())
    .optional()
    .describe(
      "Canary trials/samples the current step still needs for the margin or the tail (estimate); null when unknown",
    ),
  note: z.string().optional().describe("Why a row is inconclusive, insufficient or has no data"),
});
export type Row = z.infer<typeof rowSchema>;

export const srmSchema = z.object({
  expected_share: orNull(z.number()),
  observed_share: orNull(z.number()),
  evidence: z.number(),
  threshold: z.number(),
  mismatch: z.boolean(),
  basis: z.enum(["units", "requests", "none"]).describe("What the split check counted"),
  canary: z.number(),
  control: z.number(),
});
export type Srm = z.infer<typeof srmSchema>;

export const reportSchema = z.object({
  deployment_id: z.string(),
  step: z.number().int(),
  percent: z.number(),
  state: z.string(),
  at: z.string().describe("The time the report speaks for"),
  window: z
    .object({ from: z.string(), to: z.string() })
    .describe("The current step's judged window (after warm-up)"),
  step_started_at: z.string(),
  window_elapsed: z.boolean(),
  srm: srmSchema,
  rows: z.array(rowSchema),
  excluded: z
    .object({ slices: z.number(), note: z.string() })
    .optional()
    .describe("Traffic outside the population: stored and shown, never judged"),
  notes: z
    .array(z.string())
    .optional()
    .describe("Report-wide remarks: warm-up, segments beyond max_segments, series left out and why"),
  inputs_sha256: z.string(),
  policy_sha256: z.string(),
});
export type Report = z.infer<typeof reportSchema>;

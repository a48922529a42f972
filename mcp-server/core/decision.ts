import { z } from "zod";
import { orNull } from "./nullable.js";

export const VERDICTS = ["promote", "hold", "rollback"] as const;
export const verdictSchema = z.enum(VERDICTS);
export type Verdict = z.infer<typeof verdictSchema>;

/**
 * Stable, machine-readable reasons. Every human reason carries one; scripts and dashboards
 * key on these, so they only ever get added to, never renamed.
 */
export const REASON_CODES = [
  "regression", // a critical metric (or a segment of it) proved worse than its tolerance
  "segment_regression", // the regression is in a segment, not the whole cohort
  "catastrophe", // an absolute catastrophe limit was crossed with enough data
  "srm", // the traffic split is off
  "window_open", // the step's observation window has not elapsed
  "warmup", // the step is still in its warm-up
  "no_data", // a series has no slices for a cohort in the window
  "insufficient_data", // data is there but too little for the test
  "margin_not_proven", // enough data to test, but non-inferiority at the margin is not shown yet
  "inconclusive", // the evidence points neither way yet
  "provider_error", // the metric source failed; never a pass
  "noncritical_regression", // a non-critical metric regressed: holds, never rolls back
  "max_hold", // the step held longer than the policy allows
  "all_guardrails_proven", // every guardrail is proven within its margin: the promote reason
  "final_step", // the deployment is at 100%: nothing left to decide
  "deployment_ended", // completed or rolled back
  "paused", // a person paused the deployment
] as const;
export const reasonCodeSchema = z.enum(REASON_CODES);
export type ReasonCode = z.infer<typeof reasonCodeSchema>;

export const reasonSchema = z.object({
  code: reasonCodeSchema,
  message: z.string(),
  metric: z.string().optional(),
});
export type Reason = z.infer<typeof reasonSchema>;

export const holdAdviceSchema = z.object({
  time_left_ms: orNull(z.number()).describe("Until the window elapses (0 when it has)"),
  samples_missing: orNull(z.number()).describe("Canary trials the slowest guardrail still needs (estimate)"),
  suggested_percent: orNull(z.number()).describe(
    "A canary percent that would gather the missing samples at the observed traffic: within one window, or, when no percent up to 50% can, 50% for suggested_window_ms",
  ),
  suggested_window_ms: orNull(z.number()).describe(
    "The window the suggested percent needs: the policy's window, or longer when no percent up to 50% gathers the samples within it",
  ),
  message: z.string(),
});
export type HoldAdvice = z.infer<typeof holdAdviceSchema>;

/** What the pure decision step returns; the ledger adds ids, hashes and times when it records it. */
export const verdictResultSchema = z.object({
  verdict: verdictSchema,
  reasons: z.array(reasonSchema).min(1),
  next_check_at: z.number().describe("ms since epoch: after this a promote verdict is stale"),
  advice: holdAdviceSchema.optional(),
});
export type VerdictResult = z.infer<typeof verdictResultSchema>;

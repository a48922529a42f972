import { z } from "zod";
import { decideVerdict, type ProviderError } from "../core/decide/index.js";
import { holdAdviceSchema, verdictSchema } from "../core/decision.js";
import { RefusedError } from "../core/errors.js";
import { deploymentIdSchema } from "../core/ids.js";
import { reportSchema } from "../core/report.js";
import { insertDecision, latestDecisionHead } from "../ledger/decisions.js";
import { getDeployment, touchDeployment } from "../ledger/deployments.js";
import { type OperationContext, refuseGoingBack, resolveAt } from "./context.js";
import { recordEvent } from "./events.js";
import { holdingSince, latestSeen, reportAt } from "./judge.js";
import { failedLooksBefore } from "./pull-metrics.js";

export const decideInput = z.strictObject({
  deployment_id: deploymentIdSchema,
  at: z.string().optional().describe("Manual clock only: ISO-8601 time to treat as now"),
});

export const decideOutput = z.object({
  decision_id: z.number().int(),
  deployment_id: z.string(),
  verdict: verdictSchema,
  reasons: z.array(z.string()),
  reason_codes: z.array(z.string()),
  step: z.number().int(),
  percent: z.number(),
  decided_at: z.string(),
  next_check_at: z.string().describe("A promote verdict is stale after this; look again by then"),
  policy_sha256: z.string(),
  inputs_sha256: z.string(),
  advice: holdAdviceSchema.optional(),
  report: reportSchema,
  audit_head: z.string(),
});
export type DecideOutput = z.infer<typeof decideOutput>;

/**
 * Judges the deployment now and records the verdict with its evidence. It does not move
 * traffic: promote_step and rollback do, or tick/watch when the policy says so.
 */
export function decide(
  ctx: OperationContext,
  input: z.infer<typeof decideInput>,
  /** The errors of the pull just before this look (pullBefore); none for pushed slices. */
  sourceErrors: readonly ProviderError[] = [],
): DecideOutput {
  return ctx.ledger.write(() => {
    const ledger = ctx.ledger;
    const d = getDeployment(ledger, input.deployment_id);
    const at = resolveAt(ctx, input.at, latestSeen(ctx, d));
    refuseGoingBack(at, d.last_event_at);
    if (d.state === "completed" || d.state === "rolled_back") {
      throw new RefusedError(
        "deployment_ended",
        `deployment ${d.id} is ${d.state}; its report is still there (canary compare, or the compare_metrics tool)`,
      );
    }
    const { report, judge } = reportAt(ctx, d, at);
    const result = decideVerdict({
      ctx: judge,
      report,
      providerErrors: [...sourceErrors],
      sourceErrorLooks: sourceErrors.length > 0 ? failedLooksBefore(ctx, d) + 1 : 0,
      holdingSince: holdingSince(ctx, d),
    });
    const previous = latestDecisionHead(ledger, d.id);
    const record = {
      deployment_id: d.id,
      step: d.step,
      percent: d.percent,
      verdict: result.verdict,
      reasons: result.reasons,
      report,
      advice: result.advice ?? null,
      policy_sha256: report.policy_sha256,
      inputs_sha256: report.inputs_sha256,
      decided_at: at,
      next_check_at: result.next_check_at,
      actor: ctx.actor,
    };
    const decisionId = insertDecision(ledger, record);
    touchDeployment(ledger, d.id, at);
    const codes = result.reasons.map((r) => r.code);
    // People hear about a hold when its reasons change, not at every look.
    const holdChanged =
      result.verdict === "hold" &&
      (previous?.verdict !== "hold" ||
        previous.step !== d.step ||
        previous.reasons.map((r) => r.code).join() !== codes.join());
    const { head } = recordEvent(ctx, d, {
      action: "decide",
      at,
      state: d.state,
      step: d.step,
      percent: d.percent,
      notify: holdChanged ? "hold" : undefined,
      details: {
        decision_id: decisionId,
        verdict: result.verdict,
        reason_codes: codes,
        reasons: result.reasons.map((r) => r.message),
        policy_sha256: report.policy_sha256,
        inputs_sha256: report.inputs_sha256,
        next_check_at: new Date(result.next_check_at).toISOString(),
      },
    });
    const out: DecideOutput = {
      decision_id: decisionId,
      deployment_id: d.id,
      verdict: result.verdict,
      reasons: result.reasons.map((r) => r.message),
      reason_codes: codes,
      step: d.step,
      percent: d.percent,
      decided_at: new Date(at).toISOString(),
      next_check_at: new Date(result.next_check_at).toISOString(),
      policy_sha256: report.policy_sha256,
      inputs_sha256: report.inputs_sha256,
      report,
      audit_head: head,
    };
    if (result.advice) out.advice = result.advice;
    return out;
  });
}

import { z } from "zod";
import { decideVerdict } from "../core/decide/index.js";
import { verdictSchema } from "../core/decision.js";
import { deploymentStateSchema } from "../core/deployment.js";
import { InvalidInputError } from "../core/errors.js";
import { getDecision } from "../ledger/decisions.js";
import { getDeployment } from "../ledger/deployments.js";
import type { OperationContext } from "./context.js";
import { holdingSince, reportAt } from "./judge.js";
import { failedLooksBefore, providerErrorsOf } from "./pull-metrics.js";

export const recheckDecisionInput = z.strictObject({
  decision_id: z
    .number()
    .int()
    .positive()
    .describe("The decision to recompute from its stored inputs and policy"),
});

const side = z.object({
  verdict: verdictSchema,
  reason_codes: z.array(z.string()),
  inputs_sha256: z.string(),
  policy_sha256: z.string(),
});

export const recheckDecisionOutput = z.object({
  decision_id: z.number().int(),
  deployment_id: z.string(),
  matches: z.boolean().describe("The recomputed verdict, reasons and hashes equal the stored ones"),
  stored: side,
  recomputed: side,
  differences: z.array(z.string()),
});

/**
 * Recomputes a stored decision from the slices and policy in the ledger, as they stood at its
 * time (its step and the deployment state its report recorded). A mismatch means inputs changed afterwards (a re-sent slice) or the judge changed.
 */
export function recheckDecision(
  ctx: OperationContext,
  input: z.infer<typeof recheckDecisionInput>,
): z.infer<typeof recheckDecisionOutput> {
  const ledger = ctx.ledger;
  const stored = getDecision(ledger, input.decision_id);
  if (!stored) throw new InvalidInputError("decision_id", `no decision #${input.decision_id} in this ledger`);
  const d = getDeployment(ledger, stored.deployment_id);
  const { report, judge } = reportAt(ctx, d, stored.decided_at, {
    step: stored.step,
    state: deploymentStateSchema.parse(stored.report.state),
  });
  // Source failures are inputs too: read back from the decision's own reasons.
  const providerErrors = providerErrorsOf(stored.reasons);
  const result = decideVerdict({
    ctx: judge,
    report,
    providerErrors,
    sourceErrorLooks: providerErrors.length > 0 ? failedLooksBefore(ctx, d, stored.id) + 1 : 0,
    holdingSince: holdingSince(ctx, d, stored.step, stored.id),
  });
  const a = {
    verdict: stored.verdict,
    reason_codes: stored.reasons.map((r) => r.code),
    inputs_sha256: stored.inputs_sha256,
    policy_sha256: stored.policy_sha256,
  };
  const b = {
    verdict: result.verdict,
    reason_codes: result.reasons.map((r) => r.code),
    inputs_sha256: report.inputs_sha256,
    policy_sha256: report.policy_sha256,
  };
  const differences: string[] = [];
  if (a.verdict !== b.verdict) differences.push(`verdict: stored ${a.verdict}, recomputed ${b.verdict}`);
  if (a.reason_codes.join() !== b.reason_codes.join())
    differences.push(
      `reason_codes: stored ${a.reason_codes.join(",")}, recomputed ${b.reason_codes.join(",")}`,
    );
  if (a.inputs_sha256 !== b.inputs_sha256)
    differences.push("inputs_sha256: the stored slices changed after the decision");
  if (a.policy_sha256 !== b.policy_sha256) differences.push("policy_sha256: the policy differs");
  const reasonsSame = JSON.stringify(stored.reasons) === JSON.stringify(result.reasons);
  if (!reasonsSame && differences.length === 0) differences.push("reasons: the wording or numbers differ");
  return {
    decision_id: stored.id,
    deployment_id: d.id,
    matches: differences.length === 0,
    stored: a,
    recomputed: b,
    differences,
  };
}

import { z } from "zod";
import type { ProviderError } from "../core/decide/index.js";
import { durationMs } from "../core/duration.js";
import { orNull } from "../core/nullable.js";
import { type DecisionHead, type DecisionRecord, latestDecisionHead } from "../ledger/decisions.js";
import { type DeploymentRecord, getDeployment } from "../ledger/deployments.js";
import { type OperationContext, resolveAt } from "./context.js";
import { decide } from "./decide.js";
import { windowEndsAt } from "./deployment-status.js";
import { latestSeen } from "./judge.js";
import { promoteStep } from "./promote-step.js";
import { rollback } from "./rollback.js";

export const tickActionSchema = z.object({
  deployment_id: z.string(),
  action: z.enum(["none", "decided", "promoted", "completed", "rolled_back"]),
  verdict: orNull(z.enum(["promote", "hold", "rollback"])),
  reason_codes: z.array(z.string()),
  state: z.string(),
  step: z.number().int(),
  percent: z.number(),
  next_due_at: orNull(z.string()),
});
export type TickAction = z.infer<typeof tickActionSchema>;

/** The latest decision if it was made on the deployment's current step. */
export function decisionOnStep(ctx: OperationContext, d: DeploymentRecord): DecisionHead | undefined {
  const latest = latestDecisionHead(ctx.ledger, d.id);
  return latest && latest.step === d.step && latest.decided_at >= d.step_started_at ? latest : undefined;
}

/** When the deployment next needs a look: the latest decision's next check, or soon after a step change. */
export function nextDueAt(
  d: DeploymentRecord,
  onStep: Pick<DecisionRecord, "next_check_at"> | undefined,
): number {
  if (onStep) return onStep.next_check_at;
  const checkEvery = durationMs(d.policy.check_every);
  const windowEnd = windowEndsAt(d);
  return (
    d.step_started_at + Math.min(checkEvery, windowEnd === null ? checkEvery : windowEnd - d.step_started_at)
  );
}

/**
 * Does whatever is due for one deployment, in one transaction so that concurrent ticks (cron,
 * several CI jobs) serialise on the ledger and the second sees the first's work: act on a fresh
 * verdict the policy lets us act on, else decide if a look is due, then act on that.
 */
export function tickDeployment(
  ctx: OperationContext,
  deploymentId: string,
  at?: string,
  opts: {
    /** Replays that follow a recording's percents move the ladder themselves: no auto-promotion. */
    promote?: boolean;
    /** The errors of the pull just before this look (pullBefore). */
    sourceErrors?: readonly ProviderError[];
  } = {},
): TickAction {
  return ctx.ledger.write(() => {
    let d = getDeployment(ctx.ledger, deploymentId);
    const now = resolveAt(ctx, at, latestSeen(ctx, d));
    const atArg = ctx.clock.mode === "manual" ? new Date(now).toISOString() : undefined;
    const result: TickAction = {
      deployment_id: d.id,
      action: "none",
      verdict: null,
      reason_codes: [],
      state: d.state,
      step: d.step,
      percent: d.percent,
      next_due_at: null,
    };
    // A paused deployment is still looked at: pausing freezes the ladder, never the brake.
    if (d.state !== "canary" && d.state !== "paused") return result;

    // A look is due at the next check; a hold that is due is looked at again.
    let onStep = decisionOnStep(ctx, d);
    if (
      now >= nextDueAt(d, onStep) &&
      !(onStep && onStep.verdict !== "hold" && now <= onStep.next_check_at)
    ) {
      const decided = decide(ctx, { deployment_id: d.id, at: atArg }, opts.sourceErrors);
      result.action = "decided";
      result.verdict = decided.verdict;
      result.reason_codes = decided.reason_codes;
      onStep = decisionOnStep(ctx, d);
    }
    const current = onStep && now <= onStep.next_check_at ? onStep : undefined;
    if (current) {
      result.verdict = current.verdict;
      result.reason_codes = current.reasons.map((r) => r.code);
      if (
        current.verdict === "promote" &&
        d.policy.auto_promote &&
        opts.promote !== false &&
        d.state === "canary" &&
        // With an external ladder the other controller moves the traffic on our verdict.
        d.policy.ladder_owner !== "external"
      ) {
        const moved = promoteStep(ctx, { deployment_id: d.id, expected_step: d.step, at: atArg });
        result.action = moved.state === "completed" ? "completed" : "promoted";
      } else if (current.verdict === "rollback" && d.policy.auto_rollback) {
        const reasons = current.reasons.map((r) => r.message).join("; ");
        rollback(ctx, {
          deployment_id: d.id,
          reason: `automatic rollback (decision #${current.id}): ${reasons}`.slice(0, 2000),
          at: atArg,
        });
        result.action = "rolled_back";
      }
    }
    d = getDeployment(ctx.ledger, d.id);
    result.state = d.state;
    result.step = d.step;
    result.percent = d.percent;
    result.next_due_at =
      d.state === "canary" || d.state === "paused"
        ? new Date(nextDueAt(d, decisionOnStep(ctx, d))).toISOString()
        : null;
    return result;
  });
}

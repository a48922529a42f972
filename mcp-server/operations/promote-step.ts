import { z } from "zod";
import { deploymentStateSchema } from "../core/deployment.js";
import { RefusedError } from "../core/errors.js";
import { deploymentIdSchema } from "../core/ids.js";
import { orNull } from "../core/nullable.js";
import { latestDecision } from "../ledger/decisions.js";
import { applyTransition, getDeployment, listTransitions } from "../ledger/deployments.js";
import { type OperationContext, refuseGoingBack, resolveAt } from "./context.js";
import { recordEvent } from "./events.js";
import { refuseExternalLadder } from "./external-ladder.js";
import { latestSeen } from "./judge.js";

export const promoteStepInput = z.strictObject({
  deployment_id: deploymentIdSchema,
  expected_step: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("The step you believe it is on; makes retries safe"),
  override: z
    .strictObject({
      reason: z.string().trim().min(3, "an override needs a reason a reviewer can read").max(2000),
    })
    .optional()
    .describe("Promote against (or without) a promote verdict: only an approver named in the policy"),
  at: z.string().optional().describe("Manual clock only: ISO-8601 time to treat as now"),
});

export const promoteStepOutput = z.object({
  deployment_id: z.string(),
  state: deploymentStateSchema,
  step: z.number().int(),
  percent: z.number(),
  moved: z.boolean().describe("False when this was a safe repeat of the promotion that already happened"),
  override: z.boolean(),
  decision_id: orNull(z.number().int()),
  audit_head: z.string().optional(),
});
export type PromoteStepOutput = z.infer<typeof promoteStepOutput>;

/** Moves one rung up, compare-and-set on the step, when a fresh promote verdict (or an approver) allows it. */
export function promoteStep(
  ctx: OperationContext,
  input: z.infer<typeof promoteStepInput>,
): PromoteStepOutput {
  return ctx.ledger.write(() => {
    const ledger = ctx.ledger;
    const d = getDeployment(ledger, input.deployment_id);
    refuseExternalLadder(d);
    const at = resolveAt(ctx, input.at, latestSeen(ctx, d));
    if (input.expected_step !== undefined && input.expected_step !== d.step) {
      const last = listTransitions(ledger, d.id).at(-1);
      if (
        last &&
        (last.kind === "promote" || last.kind === "complete") &&
        last.from_step === input.expected_step
      ) {
        return {
          deployment_id: d.id,
          state: d.state,
          step: d.step,
          percent: d.percent,
          moved: false,
          override: last.override === 1,
          decision_id: last.decision_id,
        };
      }
      throw new RefusedError(
        "step_mismatch",
        `expected step ${input.expected_step} but deployment ${d.id} is at step ${d.step} (${d.state}); check its status (canary status, or the deployment_status tool) and retry with the current step`,
      );
    }
    if (d.state !== "canary") {
      throw new RefusedError(
        d.state === "paused" ? "paused" : "deployment_ended",
        `deployment ${d.id} is ${d.state}; only a running canary can be promoted`,
      );
    }
    refuseGoingBack(at, d.last_event_at);
    const next = d.policy.ladder[d.step + 1];
    if (!next) throw new RefusedError("final_step", `deployment ${d.id} is already at the last rung`);

    const decision = latestDecision(ledger, d.id);
    const fresh =
      decision && decision.step === d.step && decision.verdict === "promote" && at <= decision.next_check_at;
    let override = false;
    if (!fresh) {
      const why =
        !decision || decision.step !== d.step
          ? `no decision on step ${d.step} yet (call decide)`
          : decision.verdict !== "promote"
            ? `the latest decision (#${decision.id}) is ${decision.verdict}: ${decision.reasons.map((r) => r.code).join(", ")}`
            : `the promote decision #${decision.id} is stale (next check was due ${new Date(decision.next_check_at).toISOString()}); call decide again`;
      if (!input.override)
        throw new RefusedError(
          "fresh_promote_required",
          `cannot promote ${d.id}: ${why}. An approver may override with a reason.`,
        );
      if (!d.policy.approvers.includes(ctx.actor)) {
        throw new RefusedError(
          "approver_required",
          `${ctx.actor} is not an approver of this policy (${d.policy.approvers.join(", ") || "none named"}); only they may promote against the verdict (${why})`,
        );
      }
      override = true;
    }
    const completes = d.step + 1 === d.policy.ladder.length - 1;
    const state = completes ? "completed" : "canary";
    const moved = applyTransition(
      ledger,
      { state: "canary", step: d.step },
      {
        deploymentId: d.id,
        kind: completes ? "complete" : "promote",
        fromStep: d.step,
        toStep: d.step + 1,
        percent: next.percent,
        state,
        actor: ctx.actor,
        reason: input.override?.reason,
        override,
        decisionId: decision?.id,
        at,
      },
    );
    if (!moved)
      throw new RefusedError(
        "concurrent_change",
        `deployment ${d.id} changed while promoting; check its status (canary status, or the deployment_status tool)`,
      );
    if (override) {
      recordEvent(ctx, d, {
        action: "override",
        at,
        state,
        step: d.step + 1,
        percent: next.percent,
        notify: "override",
        details: {
          reason: input.override?.reason,
          from_step: d.step,
          against_decision: decision?.id ?? null,
          against_verdict: decision?.verdict ?? null,
        },
      });
    }
    const { head } = recordEvent(ctx, d, {
      action: completes ? "complete" : "promote",
      at,
      state,
      step: d.step + 1,
      percent: next.percent,
      notify: completes ? "completed" : "step_changed",
      details: {
        from_step: d.step,
        to_step: d.step + 1,
        from_percent: d.percent,
        to_percent: next.percent,
        decision_id: decision?.id ?? null,
        override,
      },
    });
    if (completes) ctx.judgeStates?.forget(d.id);
    return {
      deployment_id: d.id,
      state,
      step: d.step + 1,
      percent: next.percent,
      moved: true,
      override,
      decision_id: decision?.id ?? null,
      audit_head: head,
    };
  });
}

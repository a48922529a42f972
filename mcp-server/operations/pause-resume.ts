import { z } from "zod";
import { deploymentStateSchema } from "../core/deployment.js";
import { RefusedError } from "../core/errors.js";
import { deploymentIdSchema } from "../core/ids.js";
import { applyTransition, getDeployment } from "../ledger/deployments.js";
import { type OperationContext, refuseGoingBack, resolveAt } from "./context.js";
import { recordEvent } from "./events.js";
import { latestSeen } from "./judge.js";

export const pauseResumeInput = z.strictObject({
  deployment_id: deploymentIdSchema,
  reason: z.string().trim().min(3, "say why (kept in the audit log)").max(2000),
  at: z.string().optional().describe("Manual clock only: ISO-8601 time to treat as now"),
});

export const pauseResumeOutput = z.object({
  deployment_id: z.string(),
  state: deploymentStateSchema,
  step: z.number().int(),
  percent: z.number(),
  moved: z.boolean().describe("False when it already was in that state (a safe repeat)"),
});
type PauseResumeOutput = z.infer<typeof pauseResumeOutput>;

/**
 * Pausing freezes the ladder where it is: traffic stays at the current percent, decide holds with
 * `paused`, promotion is refused. The brake is never locked: rollback works, and tick and watch
 * still look and roll back a proven regression under auto_rollback. Resuming picks up where it stopped; the window keeps counting from the step start.
 */
function setPaused(
  ctx: OperationContext,
  input: z.infer<typeof pauseResumeInput>,
  pause: boolean,
): PauseResumeOutput {
  return ctx.ledger.write(() => {
    const ledger = ctx.ledger;
    const d = getDeployment(ledger, input.deployment_id);
    const target = pause ? "paused" : "canary";
    const summary = (moved: boolean): PauseResumeOutput => ({
      deployment_id: d.id,
      state: target,
      step: d.step,
      percent: d.percent,
      moved,
    });
    if (d.state === target) return summary(false);
    if (d.state === "completed" || d.state === "rolled_back") {
      throw new RefusedError(
        "deployment_ended",
        `deployment ${d.id} is ${d.state}; there is nothing to ${pause ? "pause" : "resume"}`,
      );
    }
    const at = resolveAt(ctx, input.at, latestSeen(ctx, d));
    refuseGoingBack(at, d.last_event_at);
    const moved = applyTransition(
      ledger,
      { state: d.state, step: d.step },
      {
        deploymentId: d.id,
        kind: pause ? "pause" : "resume",
        fromStep: d.step,
        toStep: d.step,
        percent: d.percent,
        state: target,
        actor: ctx.actor,
        reason: input.reason,
        at,
      },
    );
    if (!moved)
      throw new RefusedError(
        "concurrent_change",
        `deployment ${d.id} changed meanwhile; check its status (canary status, or the deployment_status tool)`,
      );
    recordEvent(ctx, d, {
      action: pause ? "pause" : "resume",
      at,
      state: target,
      step: d.step,
      percent: d.percent,
      notify: pause ? "hold" : undefined,
      details: { reason: input.reason },
    });
    return summary(true);
  });
}

export function pauseDeployment(
  ctx: OperationContext,
  input: z.infer<typeof pauseResumeInput>,
): PauseResumeOutput {
  return setPaused(ctx, input, true);
}

export function resumeDeployment(
  ctx: OperationContext,
  input: z.infer<typeof pauseResumeInput>,
): PauseResumeOutput {
  return setPaused(ctx, input, false);
}

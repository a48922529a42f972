import { z } from "zod";
import { RefusedError } from "../core/errors.js";
import { deploymentIdSchema } from "../core/ids.js";
import { orNull } from "../core/nullable.js";
import type { Row } from "../core/report.js";
import { latestDecision } from "../ledger/decisions.js";
import { applyTransition, getDeployment } from "../ledger/deployments.js";
import { type OperationContext, refuseGoingBack, resolveAt } from "./context.js";
import { recordEvent } from "./events.js";
import { latestSeen, reportAt } from "./judge.js";

export const rollbackInput = z.strictObject({
  deployment_id: deploymentIdSchema,
  reason: z
    .string()
    .trim()
    .min(3, "say why you roll back (kept in the audit log and sent to the author)")
    .max(2000),
  at: z.string().optional().describe("Manual clock only: ISO-8601 time to treat as now"),
});

export const rollbackOutput = z.object({
  deployment_id: z.string(),
  state: z.literal("rolled_back"),
  percent: z.literal(0),
  step: z.number().int().describe("The step it was rolled back from"),
  moved: z.boolean().describe("False when it was already rolled back (a safe repeat)"),
  author: orNull(z.string()),
  evidence: z.array(
    z.object({
      metric: z.string(),
      statistic: z.string(),
      status: z.string(),
      canary: orNull(z.number()),
      control: orNull(z.number()),
      evidence: z.number(),
    }),
  ),
  audit_head: z.string().optional(),
});
export type RollbackOutput = z.infer<typeof rollbackOutput>;

function worstRows(rows: Row[], n = 5): RollbackOutput["evidence"] {
  return rows.slice(0, n).map((r) => ({
    metric: r.metric,
    statistic: r.statistic,
    status: r.status,
    canary: r.canary.value,
    control: r.control.value,
    evidence: r.evidence,
  }));
}

/** The emergency brake: anyone may pull it with a reason. Routing goes to 0%; the evidence stays. */
export function rollback(ctx: OperationContext, input: z.infer<typeof rollbackInput>): RollbackOutput {
  return ctx.ledger.write(() => {
    const ledger = ctx.ledger;
    const d = getDeployment(ledger, input.deployment_id);
    if (d.state === "rolled_back") {
      return {
        deployment_id: d.id,
        state: "rolled_back",
        percent: 0,
        step: d.step,
        moved: false,
        author: d.author,
        evidence: worstRows(latestDecision(ledger, d.id)?.report.rows ?? []),
      };
    }
    if (d.state === "completed") {
      throw new RefusedError(
        "deployment_completed",
        `deployment ${d.id} completed at 100%; revert by starting a new deployment of the previous version`,
      );
    }
    const at = resolveAt(ctx, input.at, latestSeen(ctx, d));
    refuseGoingBack(at, d.last_event_at);
    const decision = latestDecision(ledger, d.id);
    const evidence = worstRows(reportAt(ctx, d, at).report.rows);
    const moved = applyTransition(
      ledger,
      { state: d.state, step: d.step },
      {
        deploymentId: d.id,
        kind: "rollback",
        fromStep: d.step,
        toStep: d.step,
        percent: 0,
        state: "rolled_back",
        actor: ctx.actor,
        reason: input.reason,
        decisionId: decision?.id,
        at,
      },
    );
    if (!moved)
      throw new RefusedError(
        "concurrent_change",
        `deployment ${d.id} changed while rolling back; check its status (canary status, or the deployment_status tool)`,
      );
    const { head } = recordEvent(ctx, d, {
      action: "rollback",
      at,
      state: "rolled_back",
      step: d.step,
      percent: 0,
      notify: "rollback",
      details: {
        reason: input.reason,
        from_percent: d.percent,
        decision_id: decision?.id ?? null,
        author: d.author,
        evidence,
        // Where the full report lives: an MCP resource, and `canary compare` for people.
        report: `canary://deployments/${d.id}/report`,
      },
    });
    // An ended deployment gets no more looks: let its kept judge go.
    ctx.judgeStates?.forget(d.id);
    return {
      deployment_id: d.id,
      state: "rolled_back",
      percent: 0,
      step: d.step,
      moved: true,
      author: d.author,
      evidence,
      audit_head: head,
    };
  });
}

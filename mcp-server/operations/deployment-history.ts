import { z } from "zod";
import { buildHistory, type History } from "../core/history.js";
import { deploymentIdSchema } from "../core/ids.js";
import { type AuditEntry, listAudit } from "../ledger/audit.js";
import { listDecisions } from "../ledger/decisions.js";
import { getDeployment, listTransitions } from "../ledger/deployments.js";
import { canaryTotals } from "../ledger/history.js";
import { UNITS_SERIES } from "../ledger/slices.js";
import type { OperationContext } from "./context.js";
import { latestSeen, reportAt } from "./judge.js";

export const deploymentHistoryInput = z.strictObject({ deployment_id: deploymentIdSchema });

/** Decisions kept in a history (the newest); older looks are in the ledger and the audit log. */
export const HISTORY_DECISIONS = 2_000;

/**
 * One deployment's history for the pages and `canary report`, read in one snapshot. "Now" for the
 * labels is the wall clock, or with the manual clock the latest time seen; callers that already
 * have a report pass `report: false`.
 */
export function deploymentHistory(
  ctx: OperationContext,
  input: z.infer<typeof deploymentHistoryInput>,
  opts: { report?: boolean } = {},
): { history: History; audit: AuditEntry[] } {
  return ctx.ledger.read(() => {
    const d = getDeployment(ctx.ledger, input.deployment_id);
    const now = ctx.clock.mode === "real" ? ctx.clock.now() : latestSeen(ctx, d);
    const decisions = listDecisions(ctx.ledger, d.id, HISTORY_DECISIONS);
    const history = buildHistory({
      deployment: d,
      transitions: listTransitions(ctx.ledger, d.id),
      decisions,
      canaryTotals: canaryTotals(ctx.ledger, d.id),
      unitsSeries: UNITS_SERIES,
      // The report the latest decision was made on, so the table's numbers are the reasons' numbers;
      // before any decision, the judge's report now.
      report: opts.report === false ? null : (decisions.at(-1)?.report ?? reportAt(ctx, d, now).report),
      now,
    });
    return { history, audit: listAudit(ctx.ledger, { deploymentId: d.id, limit: 500 }) };
  });
}

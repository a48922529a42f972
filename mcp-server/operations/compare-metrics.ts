import { z } from "zod";
import { deploymentIdSchema } from "../core/ids.js";
import { type Report, reportSchema } from "../core/report.js";
import { getDeployment } from "../ledger/deployments.js";
import { type OperationContext, resolveAt } from "./context.js";
import { latestSeen, reportAt } from "./judge.js";

export const compareMetricsInput = z.strictObject({
  deployment_id: deploymentIdSchema,
  at: z.string().optional().describe("Manual clock only: any past time to look at (read-only)"),
});

export const compareMetricsOutput = reportSchema;

/** The comparison report at a time. Never changes a deployment's state. */
export function compareMetricsReport(
  ctx: OperationContext,
  input: z.infer<typeof compareMetricsInput>,
): Report {
  const d = getDeployment(ctx.ledger, input.deployment_id);
  const at = resolveAt(ctx, input.at, latestSeen(ctx, d));
  return reportAt(ctx, d, at).report;
}

import { z } from "zod";
import { deploymentIdSchema } from "../core/ids.js";
import type { OperationContext } from "./context.js";
import { pullAll, pullBefore, sourceErrorsById } from "./pull-metrics.js";
import { tickActionSchema, tickAll, tickDeployment } from "./tick.js";

export const tickInput = z.strictObject({
  deployment_id: deploymentIdSchema.optional().describe("Only this deployment; omitted: every active one"),
  at: z.string().optional().describe("Manual clock only: ISO-8601 time to treat as now"),
});

export const tickOutput = z.object({
  actions: z.array(tickActionSchema).describe("What each deployment's look did, in id order"),
});

/**
 * Does whatever is due now: pull from metric sources, decide when a look is due, then promote or
 * roll back as the policy allows.
 */
export async function runTick(
  ctx: OperationContext,
  input: z.infer<typeof tickInput>,
): Promise<z.infer<typeof tickOutput>> {
  if (input.deployment_id) {
    const sourceErrors = await pullBefore(ctx, { deployment_id: input.deployment_id, at: input.at });
    return { actions: [tickDeployment(ctx, input.deployment_id, input.at, { sourceErrors })] };
  }
  const pulled = await pullAll(ctx, { at: input.at });
  return { actions: tickAll(ctx, input.at, sourceErrorsById(pulled)) };
}

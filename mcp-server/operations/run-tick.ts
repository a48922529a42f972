import { z } from "zod";
import { deploymentIdSchema } from "../core/ids.js";
import type { OperationContext } from "./context.js";
import { tickActionSchema, tickAll, tickDeployment } from "./tick.js";

export const tickInput = z.strictObject({
  deployment_id: deploymentIdSchema.optional().describe("Only this deployment; omitted: every active one"),
  at: z.string().optional().describe("Manual clock only: ISO-8601 time to treat as now"),
});

export const tickOutput = z.object({
  actions: z.array(tickActionSchema).describe("What each deployment's look did, in id order"),
});

/** Does whatever is due now: decide when a look is due, then promote or roll back as the policy allows. */
export function runTick(ctx: OperationContext, input: z.infer<typeof tickInput>): z.infer<typeof tickOutput> {
  return {
    actions: input.deployment_id
      ? [tickDeployment(ctx, input.deployment_id, input.at)]
      : tickAll(ctx, input.at),
  };
}

import { z } from "zod";
import { deploymentIdSchema } from "../core/ids.js";
import { cohortSchema } from "../core/slice.js";
import { getDeployment } from "../ledger/deployments.js";
import type { OperationContext } from "./context.js";

export const assignCohortInput = z.strictObject({
  deployment_id: deploymentIdSchema,
  unit_id: z
    .string()
    .describe("The unit (user, account, device) to route; NFC-normalised, at most 512 UTF-8 bytes"),
  attributes: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean().describe("a flag")]))
    .optional()
    .describe("Unit attributes for the policy's population filter, e.g. {email: 'a@example.com'}"),
});

export const assignCohortOutput = z.object({
  cohort: cohortSchema,
  bucket: z.number().int().min(0).max(9999),
  percent: z.number(),
  deployment_id: z.string(),
  state: z.string(),
});

/** Routing follows the deployment's current percent: 0 once rolled back, 100 once completed. */
export function assignCohort(
  ctx: OperationContext,
  input: z.infer<typeof assignCohortInput>,
): z.infer<typeof assignCohortOutput> {
  const d = getDeployment(ctx.ledger, input.deployment_id);
  const percent = d.state === "rolled_back" ? 0 : d.state === "completed" ? 100 : d.percent;
  const result = ctx.assigner.assign({
    deploymentId: d.id,
    unitId: input.unit_id,
    percent,
    attributes: input.attributes,
    population: d.policy.population,
  });
  return { cohort: result.cohort, bucket: result.bucket, percent, deployment_id: d.id, state: d.state };
}

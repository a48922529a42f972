import { z } from "zod";
import { InvalidInputError } from "../core/errors.js";
import {
  preflightPolicy,
  preflightResultSchema,
  preflightTrafficSchema,
} from "../core/preflight/preflight.js";
import type { OperationContext } from "./context.js";
import { loadPolicyArgument } from "./load-policy.js";

export const preflightInput = z.strictObject({
  policy: z
    .union([
      z.string().min(1).describe("Path to a YAML or JSON policy file"),
      z.record(z.string(), z.unknown()).describe("Inline policy object"),
    ])
    .describe("A policy file path or an inline policy object"),
  traffic: preflightTrafficSchema,
});

export const preflightOutput = preflightResultSchema;

/** Would each rung prove its guardrails within its window at this traffic? Read-only. */
export function preflight(
  ctx: Pick<OperationContext, "readPolicyFile">,
  input: z.infer<typeof preflightInput>,
): z.infer<typeof preflightOutput> {
  const { policy } = loadPolicyArgument(ctx, input.policy);
  for (const name of Object.keys(input.traffic.baselines ?? {})) {
    if (!policy.metrics.some((m) => m.name === name && m.type === "ratio")) {
      throw new InvalidInputError(
        `traffic.baselines.${name}`,
        `the policy has no ratio metric named ${name}`,
      );
    }
  }
  return preflightPolicy(policy, input.traffic);
}

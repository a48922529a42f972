import { z } from "zod";
import { policyWarnings } from "../core/policy/warnings.js";
import type { OperationContext } from "./context.js";
import { checkPolicyArgument } from "./load-policy.js";

export const validatePolicyInput = z.strictObject({
  policy: z
    .union([
      z.string().min(1).describe("Path to a YAML or JSON policy file"),
      z.record(z.string(), z.unknown()).describe("Inline policy object"),
    ])
    .describe("A policy file path or an inline policy object"),
});

const policyIssue = z.object({ path: z.string(), message: z.string(), line: z.number().int().optional() });

export const validatePolicyOutput = z.object({
  valid: z.boolean(),
  errors: z.array(policyIssue),
  warnings: z
    .array(policyIssue)
    .describe("Valid but probably not what was meant (a +1000% tolerance, bucket-bound snapping)"),
  policy_sha256: z.string().optional().describe("Identity of the policy with defaults filled in"),
  normalized: z.record(z.string(), z.unknown()).optional().describe("The policy with defaults filled in"),
});

export function validatePolicy(
  ctx: Pick<OperationContext, "readPolicyFile">,
  input: z.infer<typeof validatePolicyInput>,
): z.infer<typeof validatePolicyOutput> {
  const checked = checkPolicyArgument(ctx, input.policy);
  if (!checked.ok) return { valid: false, errors: checked.errors, warnings: [] };
  return {
    valid: true,
    errors: [],
    warnings: policyWarnings(checked.policy),
    policy_sha256: checked.sha256,
    normalized: checked.policy as unknown as Record<string, unknown>,
  };
}

import {
  validatePolicy,
  validatePolicyInput,
  validatePolicyOutput,
} from "../../operations/validate-policy.js";
import { defineTool } from "../tool.js";

export const validatePolicyTool = defineTool({
  name: "validate_policy",
  title: "Validate a policy",
  description:
    "Checks a policy (file path or inline object) and lists every error with its path (and line for files). Returns the normalized policy and its SHA-256 when valid.",
  input: validatePolicyInput,
  output: validatePolicyOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: validatePolicy,
});

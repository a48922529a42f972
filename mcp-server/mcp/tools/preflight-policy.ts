import { preflight, preflightInput, preflightOutput } from "../../operations/preflight.js";
import { defineTool } from "../tool.js";

export const preflightPolicyTool = defineTool({
  name: "preflight_policy",
  title: "Power check a policy",
  description:
    "Before starting: at the expected traffic, can each rung's window gather enough data to prove every guardrail within its margin? Runs the real judge on expected data and says, per rung and metric, whether and when the margin would be proven, with a percent or window that would work. Read-only.",
  input: preflightInput,
  output: preflightOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: preflight,
});

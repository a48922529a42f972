import { promoteStep, promoteStepInput, promoteStepOutput } from "../../operations/promote-step.js";
import { defineTool } from "../tool.js";

export const promoteStepTool = defineTool({
  name: "promote_step",
  title: "Promote one step",
  description:
    "Moves the canary one rung up the ladder (the last rung completes it). Refused unless the latest decision on the current step is a fresh promote, or an approver named in the policy overrides with a reason. Pass expected_step to make retries safe (a retry of a promotion that happened answers moved: false).",
  input: promoteStepInput,
  output: promoteStepOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: promoteStep,
});

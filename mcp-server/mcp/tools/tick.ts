import { runTick, tickInput, tickOutput } from "../../controller/tick-pass.js";
import { defineTool } from "../tool.js";

export const tickTool = defineTool({
  name: "tick",
  title: "Tick",
  description:
    "Does whatever is due now, as cron or the controller would: for every active deployment (or one), decide when a look is due, then promote or roll back when the verdict and the policy's auto_promote / auto_rollback say so. Safe to repeat: a second tick finds nothing left to do.",
  input: tickInput,
  output: tickOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  run: runTick,
});

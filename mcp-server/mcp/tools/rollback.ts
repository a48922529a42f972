import { rollback, rollbackInput, rollbackOutput } from "../../operations/rollback.js";
import { defineTool } from "../tool.js";

export const rollbackTool = defineTool({
  name: "rollback",
  title: "Roll back",
  description:
    "The emergency brake: routes the canary to 0% at once and ends the deployment, keeping all evidence; the change's author is told. Anyone may pull it, with a reason (the actor is logged). Safe to repeat.",
  input: rollbackInput,
  output: rollbackOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  run: rollback,
});

import { pauseDeployment, pauseResumeInput, pauseResumeOutput } from "../../operations/pause-resume.js";
import { defineTool } from "../tool.js";

export const pauseDeploymentTool = defineTool({
  name: "pause_deployment",
  title: "Pause a deployment",
  description:
    "Freezes the ladder where it is (traffic stays at the current percent): decisions hold with `paused`, tick and watch still look and roll back a proven regression under auto_rollback, promotion is refused. Rollback still works. Safe to repeat.",
  input: pauseResumeInput,
  output: pauseResumeOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: pauseDeployment,
});

import { pauseResumeInput, pauseResumeOutput, resumeDeployment } from "../../operations/pause-resume.js";
import { defineTool } from "../tool.js";

export const resumeDeploymentTool = defineTool({
  name: "resume_deployment",
  title: "Resume a paused deployment",
  description:
    "Lets a paused deployment go on where it stopped; its step's window keeps counting from the step's start. Safe to repeat.",
  input: pauseResumeInput,
  output: pauseResumeOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: resumeDeployment,
});

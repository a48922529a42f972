import {
  deploymentStatus,
  deploymentStatusInput,
  deploymentStatusOutput,
} from "../../operations/deployment-status.js";
import { defineTool } from "../tool.js";

export const deploymentStatusTool = defineTool({
  name: "deployment_status",
  title: "Deployment status",
  description:
    "State, step, percent and ladder of one deployment, with its window, latest decision, transitions and the audit head hash.",
  input: deploymentStatusInput,
  output: deploymentStatusOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: deploymentStatus,
});

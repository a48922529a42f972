import {
  listDeploymentSummaries,
  listDeploymentsInput,
  listDeploymentsOutput,
} from "../../operations/deployment-status.js";
import { defineTool } from "../tool.js";

export const listDeploymentsTool = defineTool({
  name: "list_deployments",
  title: "List deployments",
  description: "Active deployments first, then recent ones, newest first.",
  input: listDeploymentsInput,
  output: listDeploymentsOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: listDeploymentSummaries,
});

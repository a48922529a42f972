import type { ServerTool } from "../tool.js";
import { assignCohortTool } from "./assign-cohort.js";
import { auditLogTool } from "./audit-log.js";
import { deploymentStatusTool } from "./deployment-status.js";
import { listDeploymentsTool } from "./list-deployments.js";
import { startDeploymentTool } from "./start-deployment.js";
import { validatePolicyTool } from "./validate-policy.js";

/** Every tool the server offers, in the order clients list them. */
export const TOOLS: readonly ServerTool[] = [
  startDeploymentTool,
  assignCohortTool,
  deploymentStatusTool,
  listDeploymentsTool,
  auditLogTool,
  validatePolicyTool,
];

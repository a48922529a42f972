import type { ServerTool } from "../tool.js";
import { assignCohortTool } from "./assign-cohort.js";
import { auditLogTool } from "./audit-log.js";
import { checkSourceTool } from "./check-source.js";
import { compareMetricsTool } from "./compare-metrics.js";
import { decideTool } from "./decide.js";
import { deploymentStatusTool } from "./deployment-status.js";
import { exploreMetricsTool } from "./explore-metrics.js";
import { listDeploymentsTool } from "./list-deployments.js";
import { pauseDeploymentTool } from "./pause-deployment.js";
import { preflightPolicyTool } from "./preflight-policy.js";
import { promoteStepTool } from "./promote-step.js";
import { recheckDecisionTool } from "./recheck-decision.js";
import { recordMetricsTool } from "./record-metrics.js";
import { resumeDeploymentTool } from "./resume-deployment.js";
import { rollbackTool } from "./rollback.js";
import { startDeploymentTool } from "./start-deployment.js";
import { tickTool } from "./tick.js";
import { validatePolicyTool } from "./validate-policy.js";

/** Every tool the server offers, in the order clients list them. */
export const TOOLS: readonly ServerTool[] = [
  startDeploymentTool,
  recordMetricsTool,
  assignCohortTool,
  compareMetricsTool,
  decideTool,
  promoteStepTool,
  rollbackTool,
  tickTool,
  pauseDeploymentTool,
  resumeDeploymentTool,
  auditLogTool,
  deploymentStatusTool,
  listDeploymentsTool,
  recheckDecisionTool,
  validatePolicyTool,
  preflightPolicyTool,
  exploreMetricsTool,
  checkSourceTool,
];

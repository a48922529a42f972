import type { CohortAssigner, PopulationFilter } from "../core/cohort/index.js";
import type { DeploymentState } from "../core/deployment.js";
import {
  activeDeploymentOfService,
  type DeploymentRecord,
  findDeployment,
  latestDeploymentOfService,
} from "../ledger/deployments.js";
import type { Ledger } from "../ledger/open.js";

/** What a router needs to place units: the same fields `GET /v1/deployments/{id}/routing` serves. */
export interface RoutingState {
  deployment_id: string;
  /** Known when the state came from the ledger or the deployment list. */
  service?: string;
  state: DeploymentState;
  percent: number;
  seed: number;
  population: PopulationFilter | null;
}

/** Routing follows the deployment's current percent: 0 once rolled back, 100 once completed. */
export function routingPercent(d: Pick<DeploymentRecord, "state" | "percent">): number {
  return d.state === "rolled_back" ? 0 : d.state === "completed" ? 100 : d.percent;
}

/**
 * The deployment a flag key names: a deployment id, or a service name meaning that service's
 * active deployment, or its latest one once none is active (a completed rollout keeps routing
 * everyone to the new version, a rolled-back one nobody). Undefined when neither exists.
 */
export function deploymentForFlag(ledger: Ledger, key: string): DeploymentRecord | undefined {
  const byId = findDeployment(ledger, key);
  if (byId) return byId;
  const active = activeDeploymentOfService(ledger, key);
  if (active !== undefined) return findDeployment(ledger, active);
  return latestDeploymentOfService(ledger, key);
}

export function routingStateOf(assigner: CohortAssigner, d: DeploymentRecord): RoutingState {
  return {
    deployment_id: d.id,
    service: d.service,
    state: d.state,
    percent: routingPercent(d),
    seed: assigner.seed(d.id),
    population: d.policy.population ?? null,
  };
}

import type { DeploymentIdentity, DeploymentState } from "./deployment.js";
import type { Policy } from "./policy/schema.js";

// Apart from the schema (core/deployment.ts), so that reading a status loads no zod.

/** A deployment's identity fields from what the ledger holds of it. */
export function deploymentIdentity(d: {
  id: string;
  service: string;
  version: string | null;
  author: string | null;
  state: DeploymentState;
  step: number;
  percent: number;
  policy: Pick<Policy, "ladder">;
}): DeploymentIdentity {
  return {
    deployment_id: d.id,
    service: d.service,
    version: d.version,
    author: d.author,
    state: d.state,
    step: d.step,
    percent: d.percent,
    ladder: d.policy.ladder.map((r) => ({ percent: r.percent, window: r.window ?? null })),
  };
}

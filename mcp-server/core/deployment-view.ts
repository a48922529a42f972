import type { DeploymentIdentity, DeploymentState, TransitionEvent } from "./deployment.js";
import type { Policy } from "./policy/schema.js";

// A deployment's fields as its status and its history show them, apart from their schemas
// (core/deployment.ts), so that reading a status loads no zod.

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

/** A transition as the ledger records it. */
export interface TransitionRow {
  kind: string;
  from_step: number | null;
  to_step: number;
  percent: number;
  actor: string;
  reason: string | null;
  /** 0 or 1, as stored */
  override: number;
  at: number;
}

/** A recorded transition as status and history list it. */
export function transitionEvent(t: TransitionRow): TransitionEvent {
  return {
    kind: t.kind,
    from_step: t.from_step,
    to_step: t.to_step,
    percent: t.percent,
    actor: t.actor,
    reason: t.reason,
    override: t.override === 1,
    at: new Date(t.at).toISOString(),
  };
}

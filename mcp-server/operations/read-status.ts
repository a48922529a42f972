import { deploymentIdentity, transitionEvent } from "../core/deployment-view.js";
import { durationMs } from "../core/duration.js";
import { auditHead } from "../ledger/audit.js";
import { latestDecision } from "../ledger/decisions.js";
import { type DeploymentRecord, getDeployment, listTransitions } from "../ledger/deployments.js";
import { pendingMessages } from "../ledger/outbox.js";
import type { OperationContext } from "./context.js";
import type { DeploymentStatus, DeploymentStatusInput } from "./deployment-status.js";

// deployment_status's operation, apart from its schemas (deployment-status.ts): this module loads
// no zod, so `canary status ID` starts without it. The tool and the CLI run this same function.

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export function windowEndsAt(
  d: Pick<DeploymentRecord, "policy" | "step" | "step_started_at">,
): number | null {
  const window = d.policy.ladder[d.step]?.window;
  return window ? d.step_started_at + durationMs(window) : null;
}

export function deploymentStatus(ctx: OperationContext, input: DeploymentStatusInput): DeploymentStatus {
  const ledger = ctx.ledger;
  const d = getDeployment(ledger, input.deployment_id);
  const decision = latestDecision(ledger, d.id);
  const nowForFreshness = ctx.clock.mode === "real" ? ctx.clock.now() : d.last_event_at;
  const next = d.state === "canary" || d.state === "paused" ? d.policy.ladder[d.step + 1] : undefined;
  return {
    ...deploymentIdentity(d),
    next_step: next ? { step: d.step + 1, percent: next.percent } : null,
    started_at: iso(d.created_at)!,
    step_started_at: iso(d.step_started_at)!,
    window_ends_at: iso(windowEndsAt(d)),
    ended_at: iso(d.ended_at),
    policy_sha256: d.policy_sha256,
    latest_decision: decision
      ? {
          decision_id: decision.id,
          verdict: decision.verdict,
          step: decision.step,
          decided_at: iso(decision.decided_at)!,
          next_check_at: iso(decision.next_check_at)!,
          reasons: decision.reasons.map((r) => r.message),
          reason_codes: decision.reasons.map((r) => r.code),
          fresh: decision.step === d.step && nowForFreshness <= decision.next_check_at,
        }
      : null,
    transitions: listTransitions(ledger, d.id).map(transitionEvent),
    pending_notifications: pendingMessages(ledger, d.id).length,
    audit_head: auditHead(ledger),
  };
}

import type { ScheduledDeployment } from "../ledger/schedule.js";
import { nextDueAt } from "../operations/tick.js";

/**
 * When a deployment next needs the controller, from what is stored (like Argo Rollouts'
 * calculateNextReconcileTime): at once when a fresh verdict is waiting for the action the policy
 * allows, else its next check (after a step change, the first check of the new step).
 */
export function dueAt({ deployment: d, latest }: ScheduledDeployment, now: number): number {
  const onStep =
    latest && latest.step === d.step && latest.decided_at >= d.step_started_at ? latest : undefined;
  if (onStep && now <= onStep.next_check_at) {
    if (onStep.verdict === "promote" && d.policy.auto_promote && d.state === "canary") return now;
    if (onStep.verdict === "rollback" && d.policy.auto_rollback) return now;
  }
  return nextDueAt(d, onStep);
}

import { percentToThreshold } from "../core/cohort/index.js";
import { InvalidInputError, RefusedError } from "../core/errors.js";
import type { Policy } from "../core/policy/schema.js";
import { applyTransition, type DeploymentRecord, getDeployment } from "../ledger/deployments.js";
import { type OperationContext, refuseGoingBack } from "./context.js";
import { recordEvent } from "./events.js";

// External-ladder mode (policy `ladder_owner: external`): another controller (Argo Rollouts,
// Flagger) moves the traffic, and its percent arrives with each verdict request. Each new percent
// is recorded as a step of its own, so the judge's windows count from when that percent was first
// reported and the split check expects that share. The policy's rungs still give the windows: a
// reported percent takes the window of the first rung at or above it.

export function isExternalLadder(policy: Policy): boolean {
  return policy.ladder_owner === "external";
}

export function refuseExternalLadder(d: DeploymentRecord): void {
  if (isExternalLadder(d.policy))
    throw new RefusedError(
      "ladder_owner",
      `deployment ${d.id} has ladder_owner: external: its controller moves the traffic; report the percent with the verdict request (GET /v1/deployments/${d.id}/verdict?percent=P) instead of promoting here`,
    );
}

/** The ladder rung whose window a reported percent takes: the first at or above it, never the last (100%). */
export function rungForPercent(policy: Policy, percent: number): number {
  const canaryRungs = policy.ladder.length - 1;
  const i = policy.ladder.findIndex((r) => r.percent >= percent);
  return Math.min(i < 0 ? canaryRungs - 1 : i, canaryRungs - 1);
}

/** A reported percent as the contract's multiple of 0.01, strictly between 0 and 100. */
export function reportedPercent(value: unknown): number {
  const p =
    percentToThreshold(typeof value === "string" && value.trim() !== "" ? Number(value) : value) / 100;
  if (p <= 0 || p >= 100)
    throw new InvalidInputError(
      "percent",
      `a reported percent must be above 0 and below 100 (got ${p}): at 0 nothing is in the canary and at 100 nothing is left to compare`,
    );
  return p;
}

/**
 * Records the percent the controller reports. A new percent (or `restart`) starts a new judged
 * step at `at`; the same percent again changes nothing. Call inside a write transaction.
 * On a deployment whose ladder canary-pilot runs, a percent other than its own is refused.
 */
export function recordReportedPercent(
  ctx: OperationContext,
  d: DeploymentRecord,
  percent: number,
  at: number,
  opts: { restart?: boolean; reason?: string } = {},
): DeploymentRecord {
  if (!isExternalLadder(d.policy)) {
    if (percent === d.percent) return d;
    throw new RefusedError(
      "ladder_owner",
      `deployment ${d.id} is at ${d.percent}% on the ladder canary-pilot runs; a reported percent (${percent}) is only taken from deployments whose policy says ladder_owner: external`,
    );
  }
  if (d.state !== "canary" && d.state !== "paused") return d;
  if (percent === d.percent && !opts.restart) return d;
  refuseGoingBack(at, d.last_event_at);
  const step = rungForPercent(d.policy, percent);
  const moved = applyTransition(
    ctx.ledger,
    { state: d.state, step: d.step },
    {
      deploymentId: d.id,
      kind: "promote",
      fromStep: d.step,
      toStep: step,
      percent,
      state: d.state,
      actor: ctx.actor,
      reason: opts.reason ?? "percent reported by the external controller",
      at,
    },
  );
  if (!moved) throw new RefusedError("concurrent_change", `deployment ${d.id} changed meanwhile; ask again`);
  recordEvent(ctx, d, {
    action: "percent_reported",
    at,
    notify: "step_changed",
    state: d.state,
    step,
    percent,
    details: { from_percent: d.percent, percent, rung: step, reason: opts.reason ?? "reported" },
  });
  return getDeployment(ctx.ledger, d.id);
}

/** The controller promoted the canary to everyone: the deployment completes at 100%. */
export function recordExternalCompletion(
  ctx: OperationContext,
  d: DeploymentRecord,
  at: number,
  reason: string,
): DeploymentRecord {
  if (d.state !== "canary" && d.state !== "paused") return d;
  refuseGoingBack(at, d.last_event_at);
  const last = d.policy.ladder.length - 1;
  const moved = applyTransition(
    ctx.ledger,
    { state: d.state, step: d.step },
    {
      deploymentId: d.id,
      kind: "complete",
      fromStep: d.step,
      toStep: last,
      percent: 100,
      state: "completed",
      actor: ctx.actor,
      reason,
      at,
    },
  );
  if (!moved) throw new RefusedError("concurrent_change", `deployment ${d.id} changed meanwhile; ask again`);
  recordEvent(ctx, d, {
    action: "complete",
    at,
    notify: "completed",
    state: "completed",
    step: last,
    percent: 100,
    details: { reason },
  });
  return getDeployment(ctx.ledger, d.id);
}

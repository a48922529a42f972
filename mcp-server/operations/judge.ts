import { compareMetrics } from "../core/compare/index.js";
import type { DeploymentState, JudgeContext } from "../core/deployment.js";
import { durationMs } from "../core/duration.js";
import type { Report } from "../core/report.js";
import { recentVerdicts } from "../ledger/decisions.js";
import { type DeploymentRecord, stepStarts } from "../ledger/deployments.js";
import { latestSliceTime, loadSlices } from "../ledger/slices.js";
import type { OperationContext } from "./context.js";

/** The latest time a deployment has seen: its last event, or the end of its newest slice. */
export function latestSeen(ctx: OperationContext, d: DeploymentRecord): number {
  const newest = latestSliceTime(ctx.ledger, d.id);
  return newest === undefined
    ? d.last_event_at
    : Math.max(d.last_event_at, newest + durationMs(d.policy.slice));
}

/**
 * The judge's view of a deployment at a time: the steps as they stood then. `asOf` rebuilds the
 * view a recorded decision had: its step and state (transitions made at the same instant after
 * it, such as the promotion acting on it, are not part of it).
 */
export function judgeContext(
  ctx: OperationContext,
  d: DeploymentRecord,
  at: number,
  asOf?: { step: number; state: DeploymentState },
): JudgeContext {
  const asOfStep = asOf?.step;
  const steps = stepStarts(ctx.ledger, d.id).filter(
    (s) => s.startedAt <= at && (asOfStep === undefined || s.step <= asOfStep),
  );
  const current = steps[steps.length - 1];
  const ended = asOfStep === undefined && d.ended_at !== null && d.ended_at <= at;
  const jc: JudgeContext = {
    deploymentId: d.id,
    policy: d.policy,
    steps: steps.length
      ? steps
      : [{ step: 0, percent: d.policy.ladder[0]?.percent ?? 0, startedAt: d.created_at }],
    state: asOf
      ? asOf.state
      : ended
        ? d.state
        : d.state === "paused"
          ? "paused"
          : current && current.step === d.policy.ladder.length - 1
            ? "completed"
            : "canary",
    at,
  };
  if (ended && d.ended_at !== null) jc.endedAt = d.ended_at;
  return jc;
}

/** Compares the cohorts from the stored slices; read-only. */
export function reportAt(
  ctx: OperationContext,
  d: DeploymentRecord,
  at: number,
  asOf?: { step: number; state: DeploymentState },
): { report: Report; judge: JudgeContext } {
  const judge = judgeContext(ctx, d, at, asOf);
  // A pulled slice is stored once t + slice + lag <= now: judging exactly those keeps a decision
  // replayable after later looks store the slices that were still incomplete at its time.
  const lag = d.policy.source ? durationMs(d.policy.source.lag) + durationMs(d.policy.slice) - 1 : 0;
  const dataUntil = at - lag;
  if (ctx.judgeStates && !asOf) {
    return { report: ctx.judgeStates.report(ctx, d, judge, dataUntil), judge };
  }
  return { report: compareMetrics(judge, loadSlices(ctx.ledger, d.id, dataUntil), { dataUntil }), judge };
}

/** When the current unbroken run of holds on this step began (for the policy's max_hold). */
export function holdingSince(
  ctx: OperationContext,
  d: DeploymentRecord,
  step = d.step,
  beforeDecisionId = Number.MAX_SAFE_INTEGER,
): number | undefined {
  let since: number | undefined;
  for (const dec of recentVerdicts(ctx.ledger, d.id, beforeDecisionId, 10_000)) {
    if (dec.step !== step || dec.verdict !== "hold") break;
    since = dec.decided_at;
  }
  return since;
}

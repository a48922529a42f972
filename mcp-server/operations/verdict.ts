import { z } from "zod";
import { verdictSchema } from "../core/decision.js";
import { deploymentIdSchema } from "../core/ids.js";
import type { Report } from "../core/report.js";
import { type DecisionRecord, latestDecision } from "../ledger/decisions.js";
import { type DeploymentRecord, getDeployment } from "../ledger/deployments.js";
import { type OperationContext, resolveAt } from "./context.js";
import { decide } from "./decide.js";
import { recordReportedPercent } from "./external-ladder.js";
import { latestSeen } from "./judge.js";
import { rollback } from "./rollback.js";

// The verdict another controller acts on (Argo Rollouts' web metric, Flagger's webhooks): the
// latest fresh decision on the current step, or a new one when a look is due. With an external
// ladder the caller's percent is recorded first, so the verdict is on the step the traffic is at.

export const verdictInput = z.strictObject({
  deployment_id: deploymentIdSchema,
  percent: z.number().optional().describe("External ladder: the percent the controller has the canary at"),
  at: z.string().optional().describe("Manual clock only: ISO-8601 time to treat as now"),
});

export const verdictOutput = z.object({
  deployment_id: z.string(),
  verdict: verdictSchema,
  reasons: z.array(z.string()),
  reason_codes: z.array(z.string()),
  decision_id: z.number().int().nullable(),
  decided_at: z.string().nullable(),
  next_check_at: z.string().nullable(),
  state: z.string(),
  step: z.number().int(),
  percent: z.number(),
  evidence: z.object({
    window: z.object({ from: z.string(), to: z.string() }).nullable(),
    srm: z.unknown().nullable(),
    rows: z.array(
      z.object({
        metric: z.string(),
        statistic: z.string(),
        segment: z.record(z.string(), z.string()).optional(),
        status: z.string(),
        evidence: z.number().nullable(),
        threshold: z.number().nullable(),
        rel_diff: z.number().nullable(),
        ci_low: z.number().nullable(),
        ci_high: z.number().nullable(),
      }),
    ),
  }),
});
export type VerdictOutput = z.infer<typeof verdictOutput>;

/** The rows a controller's log should show: worst first (the report's order), at most 20. */
function evidenceOf(report: Report | undefined): VerdictOutput["evidence"] {
  if (!report) return { window: null, srm: null, rows: [] };
  return {
    window: report.window,
    srm: report.srm,
    rows: report.rows.slice(0, 20).map((r) => ({
      metric: r.metric,
      statistic: r.statistic,
      ...(r.segment ? { segment: r.segment } : {}),
      status: r.status,
      evidence: r.evidence,
      threshold: r.threshold,
      rel_diff: r.rel_diff,
      ci_low: r.ci_low,
      ci_high: r.ci_high,
    })),
  };
}

function fromDecision(d: DeploymentRecord, dec: DecisionRecord): VerdictOutput {
  return {
    deployment_id: d.id,
    verdict: dec.verdict,
    reasons: dec.reasons.map((r) => r.message),
    reason_codes: dec.reasons.map((r) => r.code),
    decision_id: dec.id,
    decided_at: new Date(dec.decided_at).toISOString(),
    next_check_at: new Date(dec.next_check_at).toISOString(),
    state: d.state,
    step: d.step,
    percent: d.percent,
    evidence: evidenceOf(dec.report),
  };
}

function noDecision(d: DeploymentRecord): VerdictOutput {
  return {
    deployment_id: d.id,
    verdict: "hold",
    reasons: [],
    reason_codes: [],
    decision_id: null,
    decided_at: null,
    next_check_at: null,
    state: d.state,
    step: d.step,
    percent: d.percent,
    evidence: evidenceOf(undefined),
  };
}

/** The verdict now; decides when a look is due and records a rollback verdict when the policy acts on it. */
export function verdict(ctx: OperationContext, input: z.infer<typeof verdictInput>): VerdictOutput {
  return ctx.ledger.write(() => {
    let d = getDeployment(ctx.ledger, input.deployment_id);
    const now = resolveAt(ctx, input.at, latestSeen(ctx, d));
    const atArg = ctx.clock.mode === "manual" ? new Date(now).toISOString() : undefined;
    if (input.percent !== undefined) d = recordReportedPercent(ctx, d, input.percent, now);
    if (d.state === "completed" || d.state === "rolled_back") {
      const last = latestDecision(ctx.ledger, d.id);
      const ended = last ? fromDecision(d, last) : noDecision(d);
      // An ended deployment answers with its end: whatever the last look said, it was acted on.
      ended.verdict = d.state === "completed" ? "promote" : "rollback";
      ended.reasons = [`deployment ${d.id} is ${d.state}`, ...ended.reasons];
      ended.reason_codes = [d.state === "completed" ? "completed" : "rolled_back", ...ended.reason_codes];
      ended.percent = d.state === "completed" ? 100 : 0;
      return ended;
    }
    const latest = latestDecision(ctx.ledger, d.id);
    const fresh =
      latest &&
      latest.step === d.step &&
      latest.decided_at >= d.step_started_at &&
      now <= latest.next_check_at &&
      d.state === "canary"
        ? latest
        : undefined;
    if (fresh) return fromDecision(d, fresh);
    if (d.state === "paused") {
      // A paused deployment is not judged; the controller holds.
      const held = latest ? fromDecision(d, latest) : noDecision(d);
      return {
        ...held,
        verdict: "hold",
        reasons: [`deployment ${d.id} is paused; resume it to judge again`],
        reason_codes: ["paused"],
      };
    }
    const decided = decide(ctx, { deployment_id: d.id, at: atArg });
    if (decided.verdict === "rollback" && d.policy.auto_rollback) {
      rollback(ctx, {
        deployment_id: d.id,
        reason: `automatic rollback (decision #${decided.decision_id}): ${decided.reasons.join("; ")}`.slice(
          0,
          2000,
        ),
        at: atArg,
      });
      d = getDeployment(ctx.ledger, d.id);
    }
    const stored = latestDecision(ctx.ledger, d.id);
    return fromDecision(d, stored as DecisionRecord);
  });
}

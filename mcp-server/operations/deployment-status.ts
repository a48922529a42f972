import { z } from "zod";
import { verdictSchema } from "../core/decision.js";
import {
  deploymentIdentity,
  deploymentIdentitySchema,
  deploymentStateSchema,
  transitionEventSchema,
} from "../core/deployment.js";
import { durationMs } from "../core/duration.js";
import { deploymentIdSchema } from "../core/ids.js";
import { orNull } from "../core/nullable.js";
import { auditHead } from "../ledger/audit.js";
import { latestDecision } from "../ledger/decisions.js";
import {
  type DeploymentRecord,
  getDeployment,
  listDeployments,
  listTransitions,
} from "../ledger/deployments.js";
import { pendingMessages } from "../ledger/outbox.js";
import type { OperationContext } from "./context.js";

export const deploymentStatusInput = z.strictObject({ deployment_id: deploymentIdSchema });

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export const deploymentStatusOutput = deploymentIdentitySchema.extend({
  next_step: orNull(z.object({ step: z.number().int(), percent: z.number() })),
  started_at: z.string(),
  step_started_at: z.string(),
  window_ends_at: orNull(z.string()).describe("When the current step's observation window elapses"),
  ended_at: orNull(z.string()),
  policy_sha256: z.string(),
  latest_decision: orNull(
    z.object({
      decision_id: z.number().int(),
      verdict: verdictSchema,
      step: z.number().int(),
      decided_at: z.string(),
      next_check_at: z.string(),
      reasons: z.array(z.string()),
      reason_codes: z.array(z.string()),
      fresh: z.boolean().describe("On the current step and not past next_check_at"),
    }),
  ),
  transitions: z.array(transitionEventSchema),
  pending_notifications: z.number().int(),
  audit_head: z
    .string()
    .describe("Hash of the newest audit entry: record it elsewhere to detect a cut-off tail later"),
});
export type DeploymentStatus = z.infer<typeof deploymentStatusOutput>;

export function windowEndsAt(
  d: Pick<DeploymentRecord, "policy" | "step" | "step_started_at">,
): number | null {
  const window = d.policy.ladder[d.step]?.window;
  return window ? d.step_started_at + durationMs(window) : null;
}

export function deploymentStatus(
  ctx: OperationContext,
  input: z.infer<typeof deploymentStatusInput>,
): DeploymentStatus {
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
    transitions: listTransitions(ledger, d.id).map((t) => ({
      kind: t.kind,
      from_step: t.from_step,
      to_step: t.to_step,
      percent: t.percent,
      actor: t.actor,
      reason: t.reason,
      override: t.override === 1,
      at: iso(t.at)!,
    })),
    pending_notifications: pendingMessages(ledger, d.id).length,
    audit_head: auditHead(ledger),
  };
}

export const listDeploymentsInput = z.strictObject({
  active_only: z.boolean().default(false).describe("Only deployments still in canary or paused"),
  limit: z.number().int().min(1).max(500).default(50),
});

export const listDeploymentsOutput = z.object({
  deployments: z.array(
    z.object({
      deployment_id: z.string(),
      service: z.string(),
      version: orNull(z.string()),
      state: deploymentStateSchema,
      step: z.number().int(),
      percent: z.number(),
      started_at: z.string(),
      last_event_at: z.string(),
      ended_at: orNull(z.string()),
    }),
  ),
  audit_head: z.string(),
});

export function listDeploymentSummaries(
  ctx: OperationContext,
  input: z.input<typeof listDeploymentsInput>,
): z.infer<typeof listDeploymentsOutput> {
  const { active_only, limit } = listDeploymentsInput.parse(input);
  return {
    deployments: listDeployments(ctx.ledger, { activeOnly: active_only, limit }).map((d) => ({
      deployment_id: d.id,
      service: d.service,
      version: d.version,
      state: d.state,
      step: d.step,
      percent: d.percent,
      started_at: iso(d.created_at)!,
      last_event_at: iso(d.last_event_at)!,
      ended_at: iso(d.ended_at),
    })),
    audit_head: auditHead(ctx.ledger),
  };
}

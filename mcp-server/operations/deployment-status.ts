import { z } from "zod";
import { verdictSchema } from "../core/decision.js";
import {
  deploymentIdentitySchema,
  deploymentStateSchema,
  transitionEventSchema,
} from "../core/deployment.js";
import { deploymentIdSchema } from "../core/ids.js";
import { orNull } from "../core/nullable.js";
import { auditHead } from "../ledger/audit.js";
import { listDeployments } from "../ledger/deployments.js";
import type { OperationContext } from "./context.js";

// The operation itself lives apart from these schemas, in a module without zod (the CLI's status).
export { deploymentStatus, windowEndsAt } from "./read-status.js";

export const deploymentStatusInput = z.strictObject({ deployment_id: deploymentIdSchema });
export type DeploymentStatusInput = z.infer<typeof deploymentStatusInput>;

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

import { appendAudit } from "../ledger/audit.js";
import type { DeploymentRecord } from "../ledger/deployments.js";
import { enqueue } from "../ledger/outbox.js";
import type { OperationContext } from "./context.js";

export const NOTIFY_EVENTS = [
  "started",
  "step_changed",
  "hold",
  "rollback",
  "completed",
  "override",
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/**
 * Records one thing that happened: an audit entry always, and a queued notification for each
 * policy target that wants the event. Call inside the transaction that made the change, so the
 * change, its audit entry and its messages commit together or not at all.
 */
export function recordEvent(
  ctx: OperationContext,
  d: Pick<DeploymentRecord, "id" | "service" | "policy" | "author" | "version">,
  e: {
    action: string;
    at: number;
    details: Record<string, unknown>;
    notify?: NotifyEvent;
    state: string;
    step: number;
    percent: number;
  },
): { seq: number; head: string } {
  const { seq, entry_hash } = appendAudit(
    ctx.ledger,
    { deploymentId: d.id, at: e.at, actor: ctx.actor, action: e.action, details: e.details },
    ctx.auditHmacKey,
  );
  if (e.notify) {
    const event = e.notify;
    d.policy.notify.forEach((target, index) => {
      if (target.events && !target.events.includes(event)) return;
      const idempotencyKey = `${d.id}:${seq}:${index}`;
      enqueue(ctx.ledger, {
        deploymentId: d.id,
        event,
        target: `notify[${index}]`,
        idempotencyKey,
        at: e.at,
        payload: {
          event,
          deployment_id: d.id,
          service: d.service,
          version: d.version,
          author: d.author,
          state: e.state,
          step: e.step,
          percent: e.percent,
          at: new Date(e.at).toISOString(),
          actor: ctx.actor,
          idempotency_key: idempotencyKey,
          audit_seq: seq,
          audit_head: entry_hash,
          ...e.details,
        },
      });
    });
  }
  return { seq, head: entry_hash };
}

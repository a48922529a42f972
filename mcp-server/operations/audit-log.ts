import { z } from "zod";
import { InvalidInputError } from "../core/errors.js";
import { deploymentIdSchema } from "../core/ids.js";
import { orNull } from "../core/nullable.js";
import { listAudit, verifyLedger } from "../ledger/audit.js";
import { getDeployment } from "../ledger/deployments.js";
import type { OperationContext } from "./context.js";

const hashSchema = z.string().regex(/^[0-9a-f]{64}$/, "a head is 64 lowercase hex characters (a SHA-256)");

export const auditLogInput = z.strictObject({
  deployment_id: deploymentIdSchema
    .optional()
    .describe("Only this deployment's entries (the chain itself is verified whole)"),
  limit: z.number().int().min(1).max(10_000).default(100).describe("Newest N entries"),
  verify: z
    .boolean()
    .default(false)
    .describe("Walk the whole hash chain and report any edited, reordered or deleted entry"),
  head: hashSchema
    .optional()
    .describe("A head hash recorded earlier outside the ledger: verify it is still in the chain"),
});

export const auditEntrySchema = z.object({
  seq: z.number().int(),
  deployment_id: orNull(z.string()),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  details: z.record(z.string(), z.unknown()),
  prev_hash: z.string(),
  entry_hash: z.string(),
  hmac: z.string().optional(),
});

export const auditLogOutput = z.object({
  entries: z.array(auditEntrySchema),
  head: z.string().describe("Hash of the newest entry in the ledger"),
  chain_ok: z.boolean().optional(),
  verified_entries: z.number().int().optional(),
  problems: z.array(z.object({ seq: z.number().int(), problem: z.string(), message: z.string() })).optional(),
});
export type AuditLogOutput = z.infer<typeof auditLogOutput>;

export function auditLog(ctx: OperationContext, raw: z.input<typeof auditLogInput>): AuditLogOutput {
  const input = auditLogInput.parse(raw);
  return ctx.ledger.read(() => auditLogNow(ctx, input));
}

function auditLogNow(ctx: OperationContext, input: z.infer<typeof auditLogInput>): AuditLogOutput {
  const ledger = ctx.ledger;
  if (input.deployment_id) getDeployment(ledger, input.deployment_id);
  if (input.head && !input.verify)
    throw new InvalidInputError("head", "head is checked during verification: pass verify: true with it");
  const entries = listAudit(ledger, { deploymentId: input.deployment_id, limit: input.limit });
  const out: AuditLogOutput = { entries, head: "" };
  const verification = input.verify
    ? verifyLedger(ledger, { expectedHead: input.head, hmacKey: ctx.auditHmacKey })
    : undefined;
  out.head = verification?.head ?? listAudit(ledger, { limit: 1 })[0]?.entry_hash ?? "0".repeat(64);
  if (verification) {
    out.chain_ok = verification.ok;
    out.verified_entries = verification.entries;
    out.problems = verification.problems;
  }
  return out;
}

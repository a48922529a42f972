import { auditLog, auditLogInput, auditLogOutput } from "../../operations/audit-log.js";
import { defineTool } from "../tool.js";

export const auditLogTool = defineTool({
  name: "audit_log",
  title: "Audit log",
  description:
    "The append-only, hash-chained audit trail (newest last). With verify: true, walks the whole chain and names any edited, reordered or deleted entry; with head, also checks a head hash recorded earlier elsewhere.",
  input: auditLogInput,
  output: auditLogOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: auditLog,
});

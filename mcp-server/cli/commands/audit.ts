import { auditLogTool } from "../../mcp/tools/audit-log.js";
import { auditLogInput } from "../../operations/audit-log.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { operate } from "../operate.js";
import { EXIT, paint, printJson, table, UsageError } from "../output.js";

export const auditCommand: Command = {
  name: "audit",
  usage: `canary audit [ID] [--limit N] [--verify] [--head HASH]

Lists audit entries (newest last). --verify walks the whole chain and exits 4 if any entry was
edited, reordered or deleted; --head HASH also checks a head recorded earlier outside the ledger
(a cut-off tail is only detectable that way). Set CANARY_AUDIT_HMAC_KEY to check signatures.

${COMMON_HELP}`,
  options: {
    ...LEDGER_OPTIONS,
    limit: { type: "string" },
    verify: { type: "boolean" },
    head: { type: "string" },
  },
  positionals: { min: 0, max: 1 },
  async run(args) {
    const limitText = str(args, "limit");
    const limit = limitText === undefined ? undefined : Number(limitText);
    if (limit !== undefined && !Number.isInteger(limit)) throw new UsageError("--limit takes a whole number");
    const input = auditLogInput.parse({
      deployment_id: args.positionals[0],
      limit,
      verify: flag(args, "verify") || str(args, "head") !== undefined,
      head: str(args, "head"),
    });
    const out = await operate(args, auditLogTool, input);
    if (flag(args, "json")) printJson(out);
    else {
      process.stdout.write(
        `${table(
          ["seq", "at", "deployment", "actor", "action", "hash"],
          out.entries.map((e) => [
            e.seq,
            e.at,
            e.deployment_id,
            e.actor,
            e.action,
            e.entry_hash.slice(0, 12),
          ]),
        )}\nhead ${out.head}\n`,
      );
      if (out.chain_ok !== undefined) {
        process.stdout.write(
          out.chain_ok
            ? `${paint("green", "chain ok")} (${out.verified_entries} entries)\n`
            : `${paint("red", "CHAIN BROKEN")}\n`,
        );
        for (const p of out.problems ?? []) process.stdout.write(`  entry ${p.seq}: ${p.message}\n`);
      }
    }
    return out.chain_ok === false ? EXIT.integrity : EXIT.ok;
  },
};

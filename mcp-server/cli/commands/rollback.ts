import { rollbackTool } from "../../mcp/tools/rollback.js";
import { rollbackInput } from "../../operations/rollback.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { operate } from "../operate.js";
import { printJson, UsageError } from "../output.js";

export const rollbackCommand: Command = {
  name: "rollback",
  usage: `canary rollback ID --reason TEXT [--at TIME]

Anyone may roll back, with a reason (the actor is logged). Exit 0 when rolled back or already
rolled back (a safe repeat).

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, reason: { type: "string" }, at: { type: "string" } },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const reason = str(args, "reason");
    if (!reason)
      throw new UsageError("--reason TEXT is required: say why (it is logged and sent to the author)");
    const input = rollbackInput.parse({ deployment_id: args.positionals[0], reason, at: str(args, "at") });
    const out = await operate(args, rollbackTool, input);
    if (flag(args, "json")) printJson(out);
    else
      process.stdout.write(
        out.moved
          ? `${out.deployment_id} rolled back to 0% from step ${out.step}\n`
          : `${out.deployment_id} was already rolled back\n`,
      );
    return 0;
  },
};

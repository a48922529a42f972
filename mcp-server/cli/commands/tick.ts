import { runTick } from "../../controller/tick-pass.js";
import { tickTool } from "../../mcp/tools/tick.js";
import { deliverDue } from "../../notify/deliver.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { openContext } from "../context.js";
import { isRemote, operate } from "../operate.js";
import { EXIT, printJson, table, UsageError } from "../output.js";

export const tickCommand: Command = {
  name: "tick",
  usage: `canary tick [--at TIME] [--flush-seconds N]

For every active deployment: decide when a look is due, promote or roll back when the verdict
and the policy's auto_promote / auto_rollback say so, then deliver queued notifications for up
to N seconds (default 10). Safe to run from cron or several CI jobs at once: they serialise on
the ledger and the second finds nothing left to do. Exit 0, or 20 if it rolled a deployment back.

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, at: { type: "string" }, "flush-seconds": { type: "string" } },
  async run(args) {
    const flushSeconds = Number(str(args, "flush-seconds") ?? 10);
    if (!(flushSeconds >= 0))
      throw new UsageError("--flush-seconds takes a number of seconds (0 to skip delivery)");
    // On a shared server the tick runs there, and the server delivers its own notifications.
    const remote = isRemote(args);
    const ctx = remote
      ? undefined
      : await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock") });
    try {
      const input = { at: str(args, "at") };
      const { actions } = ctx ? await runTick(ctx, input) : await operate(args, tickTool, input);
      const delivery = ctx
        ? await deliverDue(ctx.ledger, { now: Date.now(), deadline: Date.now() + flushSeconds * 1000 })
        : null;
      if (flag(args, "json")) printJson({ actions, notifications: delivery });
      else if (actions.length === 0) process.stdout.write("no active deployments\n");
      else {
        process.stdout.write(
          `${table(
            ["deployment", "action", "verdict", "reasons", "state", "percent", "next look"],
            actions.map((a) => [
              a.deployment_id,
              a.action,
              a.verdict,
              a.reason_codes.join(","),
              a.state,
              `${a.percent}%`,
              a.next_due_at,
            ]),
          )}\n`,
        );
      }
      return actions.some((a) => a.action === "rolled_back") ? EXIT.rollback : EXIT.ok;
    } finally {
      ctx?.ledger.close();
    }
  },
};

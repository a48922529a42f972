import { tickTool } from "../../mcp/tools/tick.js";
import { deliverDue } from "../../notify/deliver.js";
import { JudgeStates } from "../../operations/judge-states.js";
import { pullBefore } from "../../operations/pull-metrics.js";
import { tickDeployment } from "../../operations/tick.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { openContext } from "../context.js";
import { isRemote, operate } from "../operate.js";
import { EXIT, paint, UsageError } from "../output.js";

function eta(iso: string | null): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export const watchCommand: Command = {
  name: "watch",
  usage: `canary watch ID [--poll-seconds N]

Ticks the deployment whenever a look is due (decide, then promote or roll back as the policy's
auto_promote / auto_rollback allow), delivers notifications continuously, and shows progress:
a live line on a terminal, plain lines otherwise (--json: one JSON object per event).
Exit 0 completed, 20 rolled back. Runs on the real clock (use canary replay for virtual time).

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, "poll-seconds": { type: "string" } },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const id = args.positionals[0]!;
    const poll = Number(str(args, "poll-seconds") ?? 5);
    if (!(poll > 0)) throw new UsageError("--poll-seconds takes a positive number");
    // On a shared server each look is the server's tick of this deployment (it delivers its own notifications).
    const ctx = isRemote(args)
      ? undefined
      : {
          ...(await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock") })),
          // One look a poll for as long as it runs: fold only the new slices each time.
          judgeStates: new JudgeStates(),
        };
    if (ctx && ctx.clock.mode !== "real") {
      ctx.ledger.close();
      throw new UsageError("watch runs on the real clock; use canary replay to run a ladder in virtual time");
    }
    const look = async () => {
      if (!ctx) {
        const [action] = (await operate(args, tickTool, { deployment_id: id })).actions;
        if (!action) throw new Error(`the server's tick returned no look for ${id}`);
        return action;
      }
      const sourceErrors = await pullBefore(ctx, { deployment_id: id });
      const action = tickDeployment(ctx, id, undefined, { sourceErrors });
      await deliverDue(ctx.ledger, { now: Date.now() });
      return action;
    };
    const json = flag(args, "json");
    const live = !json && Boolean(process.stdout.isTTY);
    let lastLine = "";
    try {
      for (;;) {
        const a = await look();
        const line = `${a.deployment_id} step ${a.step} ${a.percent}% ${a.state} | verdict ${a.verdict ?? "-"}${a.reason_codes.length ? ` (${a.reason_codes.join(",")})` : ""} | next look in ${eta(a.next_due_at)}`;
        if (json) {
          if (a.action !== "none")
            process.stdout.write(`${JSON.stringify({ ...a, at: new Date().toISOString() })}\n`);
        } else if (live) {
          process.stdout.write(`\r\u001b[2K${line}`);
          if (a.action !== "none" && a.action !== "decided")
            process.stdout.write(`\n${paint("bold", a.action)} -> ${a.percent}%\n`);
        } else if (a.action !== "none" || line !== lastLine) {
          if (a.action !== "none") process.stdout.write(`${new Date().toISOString()} ${a.action}: ${line}\n`);
        }
        lastLine = line;
        if (a.state === "completed" || a.state === "rolled_back") {
          if (live) process.stdout.write("\n");
          if (!json)
            process.stdout.write(
              `${a.state === "completed" ? paint("green", "completed") : paint("red", "rolled back")}\n`,
            );
          return a.state === "completed" ? EXIT.ok : EXIT.rollback;
        }
        const wait = a.next_due_at
          ? Math.min(poll * 1000, Math.max(50, Date.parse(a.next_due_at) - Date.now()))
          : poll * 1000;
        await new Promise((r) => setTimeout(r, wait));
      }
    } finally {
      ctx?.ledger.close();
    }
  },
};

import { wallClock } from "../../controller/clock.js";
import { ledgerDue, ledgerLook } from "../../controller/ledger-looks.js";
import { createScheduler } from "../../controller/scheduler.js";
import { tickTool } from "../../mcp/tools/tick.js";
import { deliverDue } from "../../notify/deliver.js";
import { JudgeStates } from "../../operations/judge-states.js";
import type { TickAction } from "../../operations/tick.js";
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
    // One scheduler, as serve runs it, over this one deployment. The first pass always looks (it
    // shows where the deployment stands), and so does one after the deployment left the schedule
    // (someone else ended it); otherwise a look comes when it is due. On a shared server each pass
    // looks: the look is the server's tick, which acts only when something is due there.
    let last: TickAction | undefined;
    const dueOnLedger = ctx ? ledgerDue(ctx, id) : undefined;
    const due = (now: number) => {
      const scheduled = last && dueOnLedger ? dueOnLedger(now) : [];
      return scheduled.length > 0 ? scheduled : [{ deploymentId: id, dueAt: Number.NEGATIVE_INFINITY }];
    };
    const json = flag(args, "json");
    const live = !json && Boolean(process.stdout.isTTY);
    const describe = (a: TickAction) =>
      `${a.deployment_id} step ${a.step} ${a.percent}% ${a.state} | verdict ${a.verdict ?? "-"}${a.reason_codes.length ? ` (${a.reason_codes.join(",")})` : ""} | next look in ${eta(a.next_due_at)}`;
    const show = (a: TickAction) => {
      const line = describe(a);
      if (json) {
        if (a.action !== "none")
          process.stdout.write(`${JSON.stringify({ ...a, at: new Date().toISOString() })}\n`);
      } else if (live) {
        process.stdout.write(`\r\u001b[2K${line}`);
        if (a.action !== "none" && a.action !== "decided")
          process.stdout.write(`\n${paint("bold", a.action)} -> ${a.percent}%\n`);
      } else if (a.action !== "none") {
        process.stdout.write(`${new Date().toISOString()} ${a.action}: ${line}\n`);
      }
    };
    const stop = new AbortController();
    let failure: unknown;
    const scheduler = createScheduler({
      clock: wallClock,
      due,
      look: ctx
        ? ledgerLook(ctx)
        : async () => {
            const [action] = (await operate(args, tickTool, { deployment_id: id })).actions;
            if (!action) throw new Error(`the server's tick returned no look for ${id}`);
            return action;
          },
      ...(ctx ? { deliver: async (now: number) => void (await deliverDue(ctx.ledger, { now })) } : {}),
      maxSleepMs: poll * 1000,
      onAction: (a) => {
        last = a;
        show(a);
      },
      // A failed look ends the watch with the failure's exit code, as any command.
      onError: (_id, error) => {
        failure ??= error;
        stop.abort();
      },
    });
    try {
      await scheduler.run(stop.signal, () => {
        if (!last) return false;
        // Between looks the live line counts down to the next one.
        if (live) process.stdout.write(`\r\u001b[2K${describe(last)}`);
        return last.state === "completed" || last.state === "rolled_back";
      });
      if (failure !== undefined) throw failure;
      const a = last!;
      if (live) process.stdout.write("\n");
      if (!json)
        process.stdout.write(
          `${a.state === "completed" ? paint("green", "completed") : paint("red", "rolled back")}\n`,
        );
      return a.state === "completed" ? EXIT.ok : EXIT.rollback;
    } finally {
      ctx?.ledger.close();
    }
  },
};

import { decide, decideInput } from "../../operations/decide.js";
import { pullBefore } from "../../operations/pull-metrics.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { openContext } from "../context.js";
import { EXIT, paint, printJson } from "../output.js";

export const verdictExit = { promote: EXIT.ok, hold: EXIT.hold, rollback: EXIT.rollback } as const;

export const decideCommand: Command = {
  name: "decide",
  summary: "judge now and record the verdict (does not move traffic)",
  usage: `canary decide ID [--at TIME]

Records a verdict with its reasons and evidence. Exit 0 promote, 10 hold, 20 rollback.
It does not act: use canary promote / canary rollback, or canary tick / watch.

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, at: { type: "string" } },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const input = decideInput.parse({ deployment_id: args.positionals[0], at: str(args, "at") });
    const ctx = await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock") });
    try {
      await pullBefore(ctx, input);
      const out = decide(ctx, input);
      if (flag(args, "json")) printJson(out);
      else {
        const color = out.verdict === "promote" ? "green" : out.verdict === "rollback" ? "red" : "yellow";
        const lines = [
          `${paint(color, out.verdict.toUpperCase())}  ${out.deployment_id} step ${out.step} (${out.percent}%)  decision #${out.decision_id}`,
        ];
        for (const [i, r] of out.reasons.entries()) lines.push(`  - [${out.reason_codes[i]}] ${r}`);
        if (out.advice) lines.push(`  advice: ${out.advice.message}`);
        lines.push(`next check by ${out.next_check_at}`);
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      return verdictExit[out.verdict];
    } finally {
      ctx.ledger.close();
    }
  },
};

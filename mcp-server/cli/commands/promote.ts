import { promoteStepTool } from "../../mcp/tools/promote-step.js";
import { promoteStepInput } from "../../operations/promote-step.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { operate } from "../operate.js";
import { printJson, UsageError } from "../output.js";

export const promoteCommand: Command = {
  name: "promote",
  usage: `canary promote ID [--expected-step N] [--override REASON] [--at TIME]

Exit 0 when it moved or was a safe repeat (--expected-step), 3 when refused (no fresh promote
verdict, not an approver, wrong step). --override REASON promotes against the verdict: only an
approver named in the policy (CANARY_ACTOR), and it is logged with the reason.

${COMMON_HELP}`,
  options: {
    ...LEDGER_OPTIONS,
    "expected-step": { type: "string" },
    override: { type: "string" },
    at: { type: "string" },
  },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const expectedText = str(args, "expected-step");
    const expected = expectedText === undefined ? undefined : Number(expectedText);
    if (expected !== undefined && !Number.isInteger(expected))
      throw new UsageError("--expected-step takes a whole number");
    const override = str(args, "override");
    const input = promoteStepInput.parse({
      deployment_id: args.positionals[0],
      expected_step: expected,
      override: override === undefined ? undefined : { reason: override },
      at: str(args, "at"),
    });
    const out = await operate(args, promoteStepTool, input);
    if (flag(args, "json")) printJson(out);
    else if (!out.moved)
      process.stdout.write(
        `${out.deployment_id} is already at step ${out.step} (${out.percent}%): nothing to do\n`,
      );
    else
      process.stdout.write(
        `${out.deployment_id} promoted to step ${out.step}: ${out.percent}%${out.state === "completed" ? " (completed)" : ""}${out.override ? " by override" : ""}\n`,
      );
    return 0;
  },
};

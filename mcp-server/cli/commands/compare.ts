import { reportToMarkdown } from "../../core/compare/markdown.js";
import { compareMetricsTool } from "../../mcp/tools/compare-metrics.js";
import { compareMetricsInput } from "../../operations/compare-metrics.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { operate } from "../operate.js";
import { printJson } from "../output.js";

export const compareCommand: Command = {
  name: "compare",
  usage: `canary compare ID [--at TIME] [--markdown]

Prints the comparison report, worst rows first. Read-only; exit 0 whenever a report was made.
--markdown prints the Markdown rendering (the default for people); --json the report itself.

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, at: { type: "string" }, markdown: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const input = compareMetricsInput.parse({ deployment_id: args.positionals[0], at: str(args, "at") });
    const report = await operate(args, compareMetricsTool, input, { access: "write" });
    if (flag(args, "json")) printJson(report);
    else process.stdout.write(`${reportToMarkdown(report)}\n`);
    return 0;
  },
};

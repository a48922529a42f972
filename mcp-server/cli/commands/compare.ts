import { reportToMarkdown } from "../../core/compare/markdown.js";
import { compareMetricsInput, compareMetricsReport } from "../../operations/compare-metrics.js";
import { deploymentHistory } from "../../operations/deployment-history.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { openContext } from "../context.js";
import { printJson, UsageError } from "../output.js";

export const compareCommand: Command = {
  name: "compare",
  summary: "compare canary and control now (read-only report)",
  usage: `canary compare ID [--at TIME] [--format md|json]

Prints the comparison report, worst rows first. Read-only; exit 0 whenever a report was made.
--format md (or --markdown, the default) prints the Markdown rendering with Mermaid charts of
evidence and values over the recorded decisions (GitHub renders them in step summaries and
pull-request comments); --format json (or --json) the report itself.

${COMMON_HELP}`,
  options: {
    ...LEDGER_OPTIONS,
    at: { type: "string" },
    markdown: { type: "boolean" },
    format: { type: "string" },
  },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const format = str(args, "format") ?? (flag(args, "json") ? "json" : "md");
    if (format !== "md" && format !== "json")
      throw new UsageError(`--format takes md or json, got ${JSON.stringify(format)}`);
    const input = compareMetricsInput.parse({ deployment_id: args.positionals[0], at: str(args, "at") });
    const ctx = await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock"), access: "read" });
    try {
      const report = compareMetricsReport(ctx, input);
      if (format === "json") printJson(report);
      else {
        const { history } = deploymentHistory(
          ctx,
          { deployment_id: report.deployment_id },
          { report: false },
        );
        process.stdout.write(`${reportToMarkdown(report, { history })}\n`);
      }
      return 0;
    } finally {
      ctx.ledger.close();
    }
  },
};

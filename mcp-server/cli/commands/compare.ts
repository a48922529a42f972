import { reportToMarkdown } from "../../core/compare/markdown.js";
import { compareMetricsTool } from "../../mcp/tools/compare-metrics.js";
import { compareMetricsInput } from "../../operations/compare-metrics.js";
import { deploymentHistory } from "../../operations/deployment-history.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { openContext } from "../context.js";
import { isRemote, operate } from "../operate.js";
import { printJson, UsageError } from "../output.js";

export const compareCommand: Command = {
  name: "compare",
  usage: `canary compare ID [--at TIME] [--format md|json]

Prints the comparison report, worst rows first. Exit 0 whenever a report was made. It never
changes a deployment (with a metric source it stores the slices it pulls first).
--format md (or --markdown, the default) prints the Markdown rendering with Mermaid charts of
evidence and values over the recorded decisions (GitHub renders them in step summaries and
pull-request comments; through --server the charts are left out); --format json (or --json)
the report itself.

${COMMON_HELP}`,
  options: {
    ...LEDGER_OPTIONS,
    at: { type: "string" },
    markdown: { type: "boolean" },
    format: { type: "string" },
  },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const input = compareMetricsInput.parse({ deployment_id: args.positionals[0], at: str(args, "at") });
    const format = str(args, "format") ?? (flag(args, "json") ? "json" : "md");
    if (format !== "md" && format !== "json")
      throw new UsageError(`--format takes md or json, got ${JSON.stringify(format.slice(0, 80))}`);
    if (isRemote(args)) {
      const report = await operate(args, compareMetricsTool, input);
      if (format === "json") printJson(report);
      else process.stdout.write(`${reportToMarkdown(report)}\n`);
      return 0;
    }
    // Write access: a policy with a metric source stores what it pulls before the report.
    const ctx = await openContext({
      ledger: str(args, "ledger"),
      clock: str(args, "clock"),
      access: "write",
    });
    try {
      const report = await compareMetricsTool.run(ctx, input);
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

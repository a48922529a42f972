import { renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { reportToMarkdown } from "../../core/compare/markdown.js";
import { InvalidInputError } from "../../core/errors.js";
import { renderDeploymentPage } from "../../http/pages/deployment.js";
import { deploymentHistory, deploymentHistoryInput } from "../../operations/deployment-history.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { openContext } from "../context.js";
import { printJson } from "../output.js";

/** Writes next to the target, then renames: a reader never sees half a file. */
function writeWhole(path: string, text: string, field: string): string {
  const target = resolve(path);
  const temp = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new InvalidInputError(
      field,
      `cannot write ${target} (${e instanceof Error ? e.message : String(e)}); check that ${dirname(target)} exists and is writable and the path is not a directory`,
    );
  }
  return target;
}

export const reportCommand: Command = {
  name: "report",
  usage: `canary report ID [--html FILE] [--md FILE]

Prints the Markdown report with Mermaid charts of evidence and values over the recorded
decisions (for GitHub step summaries and pull-request comments). --html FILE writes the
deployment's page (timeline, charts, report table, audit trail) as one self-contained HTML file
with no scripts or links to fetch, to attach as a CI artifact; --md FILE writes the Markdown to a
file instead of stdout. --json prints the history behind the charts. Read-only.

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, html: { type: "string" }, md: { type: "string" } },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const input = deploymentHistoryInput.parse({ deployment_id: args.positionals[0] });
    const ctx = await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock"), access: "read" });
    try {
      const { history, audit } = deploymentHistory(ctx, input);
      if (flag(args, "json")) {
        printJson(history);
        return 0;
      }
      const html = str(args, "html");
      const md = str(args, "md");
      if (html) {
        const path = writeWhole(html, renderDeploymentPage(history, audit, { standalone: true }), "--html");
        process.stderr.write(`wrote ${path}\n`);
      }
      const markdown = history.report ? reportToMarkdown(history.report, { history }) : "";
      if (md) {
        const path = writeWhole(md, markdown, "--md");
        process.stderr.write(`wrote ${path}\n`);
      } else if (!html) process.stdout.write(`${markdown}\n`);
      return 0;
    } finally {
      ctx.ledger.close();
    }
  },
};

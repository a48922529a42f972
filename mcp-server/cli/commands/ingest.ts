import { boundedLines } from "../../core/slice-line.js";
import { type IngestSummary, ingestSlices } from "../../operations/ingest.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { openContext } from "../context.js";
import { openInput } from "../input-file.js";
import { isRemote } from "../operate.js";
import { printJson, UsageError } from "../output.js";

/** Deployments listed one per line in the text summary; --json lists them all. */
const LISTED = 20;

/** The text summary: totals, then one line per deployment (at most LISTED of them). */
export function ingestSummaryText(summary: IngestSummary): string {
  const per = Object.entries(summary.deployments);
  const lines = [
    `ingested ${summary.slices} slices (${summary.series_written} series) from ${summary.lines} lines into ${per.length} deployment${per.length === 1 ? "" : "s"}`,
    ...per.slice(0, LISTED).map(([id, n]) => `  ${id}: ${n} slices`),
  ];
  if (per.length > LISTED) lines.push(`  ... and ${per.length - LISTED} more (--json lists them all)`);
  return `${lines.join("\n")}\n`;
}

export const ingestCommand: Command = {
  name: "ingest",
  usage: `canary ingest [FILE|-] [--deployment ID]

Reads one slice per line (the slice format: docs/slices.md; each line may carry deployment_id,
else --deployment names it). Values are increments within the slice: a counter that looks like a
running total is refused, as are events above trials, histograms over 1000 bounds and lines over
1 MiB. Slices from several pods add up when each names its "instance"; a re-sent slice replaces
its own instance's contribution (or, without instance, the series). The whole stream is read and
checked before anything is stored, and no lock is held meanwhile (pause and rollback go through);
it is then stored in one short transaction, all or nothing: a bad line stops the ingest naming its
line number and field, and nothing of the file is kept. Progress goes to stderr on long files.

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, deployment: { type: "string" } },
  positionals: { min: 0, max: 1 },
  async run(args) {
    if (isRemote(args))
      throw new UsageError(
        "canary ingest runs on a local ledger only for now: unset CANARY_SERVER (and drop --server), or let the server's controller take the slices through the record_metrics tool",
      );
    const file = args.positionals[0] ?? "-";
    const input = openInput(file, "FILE");
    const ctx = await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock") });
    try {
      const summary = await ingestSlices(ctx, boundedLines(input), {
        deploymentId: str(args, "deployment"),
        onProgress: (s) => process.stderr.write(`ingest: ${s.slices} slices (line ${s.lines})\n`),
      });
      if (flag(args, "json")) printJson(summary);
      else {
        process.stdout.write(ingestSummaryText(summary));
      }
      return 0;
    } finally {
      ctx.ledger.close();
    }
  },
};

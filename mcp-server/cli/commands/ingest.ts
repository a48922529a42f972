import { createReadStream } from "node:fs";
import { boundedLines } from "../../core/slice-line.js";
import { ingestSlices } from "../../operations/ingest.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { openContext } from "../context.js";
import { printJson } from "../output.js";

export const ingestCommand: Command = {
  name: "ingest",
  summary: "load metric slices from NDJSON (a file or stdin)",
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
    const file = args.positionals[0] ?? "-";
    const input = file === "-" ? process.stdin : createReadStream(file, { encoding: "utf8" });
    const ctx = await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock") });
    try {
      const summary = await ingestSlices(ctx, boundedLines(input), {
        deploymentId: str(args, "deployment"),
        onProgress: (s) => process.stderr.write(`ingest: ${s.slices} slices (line ${s.lines})\n`),
      });
      if (flag(args, "json")) printJson(summary);
      else {
        const per = Object.entries(summary.deployments)
          .map(([id, n]) => `${id}: ${n}`)
          .join(", ");
        process.stdout.write(
          `ingested ${summary.slices} slices (${summary.series_written} series) from ${summary.lines} lines${per ? ` — ${per}` : ""}\n`,
        );
      }
      return 0;
    } finally {
      ctx.ledger.close();
    }
  },
};

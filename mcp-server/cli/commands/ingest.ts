import { InvalidInputError } from "../../core/errors.js";
import type { Slice } from "../../core/slice.js";
import { boundedLines, parseSliceLine } from "../../core/slice-line.js";
import { recordMetricsTool } from "../../mcp/tools/record-metrics.js";
import { type IngestSummary, ingestSlices } from "../../operations/ingest.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, type ParsedArgs, str } from "../command.js";
import { openContext } from "../context.js";
import { openInput } from "../input-file.js";
import { isRemote, operate } from "../operate.js";
import { printJson } from "../output.js";

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

/** Slices per record_metrics call when ingesting through a server (the tool's limit). */
const REMOTE_BATCH = 10_000;

/**
 * Through a shared server: the whole file is read and parsed first (a bad line stops it before
 * anything is sent), then each deployment's slices go as record_metrics calls of up to 10 000,
 * each all or nothing. A refused call stops the ingest; what was sent before it stays, and sending
 * the file again is safe (a re-sent series replaces itself).
 */
async function ingestRemote(args: ParsedArgs, file: string): Promise<number> {
  const byDeployment = new Map<string, Slice[]>();
  const summary: IngestSummary = { lines: 0, slices: 0, series_written: 0, deployments: {} };
  const only = str(args, "deployment");
  for await (const raw of boundedLines(openInput(file, "FILE"))) {
    summary.lines++;
    const slice = parseSliceLine(raw, summary.lines);
    if (!slice) continue;
    const id = slice.deployment_id ?? only;
    if (!id)
      throw new InvalidInputError(
        `line ${summary.lines}: deployment_id`,
        "the slice names no deployment_id and no --deployment was given",
      );
    if (only && slice.deployment_id && slice.deployment_id !== only)
      throw new InvalidInputError(
        `line ${summary.lines}: deployment_id`,
        `is ${slice.deployment_id}, but --deployment says ${only}`,
      );
    const list = byDeployment.get(id) ?? [];
    list.push(slice);
    byDeployment.set(id, list);
    summary.slices++;
  }
  for (const [id, slices] of byDeployment) {
    for (let i = 0; i < slices.length; i += REMOTE_BATCH) {
      const out = await operate(args, recordMetricsTool, {
        deployment_id: id,
        slices: slices.slice(i, i + REMOTE_BATCH),
      });
      summary.series_written += out.series_written;
      summary.deployments[id] = (summary.deployments[id] ?? 0) + out.accepted;
    }
  }
  if (flag(args, "json")) printJson(summary);
  else process.stdout.write(ingestSummaryText(summary));
  return 0;
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

Through a shared server (CANARY_SERVER or --server) the file is read and checked first, then each
deployment's slices go as record_metrics calls of up to 10 000 slices, each all or nothing: a
refused call stops the ingest, what was sent before it stays, and sending the file again is safe.

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, deployment: { type: "string" } },
  positionals: { min: 0, max: 1 },
  async run(args) {
    const file = args.positionals[0] ?? "-";
    if (isRemote(args)) return ingestRemote(args, file);
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

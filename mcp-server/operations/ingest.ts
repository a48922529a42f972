import { InvalidInputError, NotFoundError } from "../core/errors.js";
import { parseSliceLine } from "../core/slice-line.js";
import { appendAudit } from "../ledger/audit.js";
import { type DeploymentRecord, getDeployment } from "../ledger/deployments.js";
import { type SeriesShape, seriesShapes, upsertSeries } from "../ledger/slices.js";
import type { OperationContext } from "./context.js";
import { sliceRows } from "./record-metrics.js";

export interface IngestSummary {
  lines: number;
  slices: number;
  series_written: number;
  deployments: Record<string, number>;
}

/**
 * Streams NDJSON slices into the ledger, all or nothing for the whole stream, in constant memory:
 * each line is validated and written as it arrives inside one transaction. A bad line stops the
 * ingest naming its line number and field; nothing of the stream is kept.
 */
export async function ingestSlices(
  ctx: OperationContext,
  lines: AsyncIterable<string>,
  opts: { deploymentId?: string; onProgress?: (s: IngestSummary) => void } = {},
): Promise<IngestSummary> {
  const ledger = ctx.ledger;
  const summary: IngestSummary = { lines: 0, slices: 0, series_written: 0, deployments: {} };
  const deployments = new Map<string, { d: DeploymentRecord; shapes: Map<string, SeriesShape> }>();
  const now = ctx.clock.mode === "real" ? ctx.clock.now() : undefined;
  return ctx.ledger.writeAsync(async () => {
    for await (const raw of lines) {
      summary.lines++;
      const slice = parseSliceLine(raw, summary.lines);
      if (!slice) continue;
      const where = `line ${summary.lines}`;
      const id = slice.deployment_id ?? opts.deploymentId;
      if (!id)
        throw new InvalidInputError(
          `${where}: deployment_id`,
          "the slice names no deployment_id and no --deployment was given",
        );
      if (opts.deploymentId && slice.deployment_id && slice.deployment_id !== opts.deploymentId) {
        throw new InvalidInputError(
          `${where}: deployment_id`,
          `is ${slice.deployment_id}, but --deployment says ${opts.deploymentId}`,
        );
      }
      let target = deployments.get(id);
      if (!target) {
        let d: DeploymentRecord;
        try {
          d = getDeployment(ledger, id);
        } catch (error) {
          if (error instanceof NotFoundError)
            throw new NotFoundError(`${where}: deployment_id`, error.message);
          throw error;
        }
        target = { d, shapes: seriesShapes(ledger, id) };
        deployments.set(id, target);
      }
      const rows = sliceRows(
        target.d,
        [{ ...slice, deployment_id: id }],
        target.shapes,
        now,
        (_, field) => `${where}: ${field}`,
      );
      upsertSeries(ledger, rows, now ?? target.d.last_event_at);
      summary.slices++;
      summary.series_written += rows.length;
      summary.deployments[id] = (summary.deployments[id] ?? 0) + 1;
      if (summary.slices % 5000 === 0) opts.onProgress?.(summary);
    }
    for (const [id, count] of Object.entries(summary.deployments)) {
      const d = deployments.get(id)!.d;
      appendAudit(
        ledger,
        {
          deploymentId: id,
          at: now ?? d.last_event_at,
          actor: ctx.actor,
          action: "ingest",
          details: { slices: count, lines: summary.lines },
        },
        ctx.auditHmacKey,
      );
    }
    return summary;
  });
}

import { InvalidInputError } from "../core/errors.js";
import { formatPath } from "../core/policy/parse.js";
import { sliceSchema } from "../core/slice.js";
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
  const db = ctx.ledger.db;
  const summary: IngestSummary = { lines: 0, slices: 0, series_written: 0, deployments: {} };
  const deployments = new Map<string, { d: DeploymentRecord; shapes: Map<string, SeriesShape> }>();
  const now = ctx.clock.mode === "real" ? ctx.clock.now() : undefined;
  return ctx.ledger.writeAsync(async () => {
    for await (const raw of lines) {
      summary.lines++;
      const line = raw.trim();
      if (line === "") continue;
      const where = `line ${summary.lines}`;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new InvalidInputError(where, "is not valid JSON (one slice object per line)");
      }
      const parsed = sliceSchema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InvalidInputError(
          `${where}: ${formatPath(issue?.path ?? [])}`,
          issue?.message ?? "invalid slice",
        );
      }
      const id = parsed.data.deployment_id ?? opts.deploymentId;
      if (!id)
        throw new InvalidInputError(
          `${where}: deployment_id`,
          "the slice names no deployment_id and no --deployment was given",
        );
      if (opts.deploymentId && parsed.data.deployment_id && parsed.data.deployment_id !== opts.deploymentId) {
        throw new InvalidInputError(
          `${where}: deployment_id`,
          `is ${parsed.data.deployment_id}, but --deployment says ${opts.deploymentId}`,
        );
      }
      let target = deployments.get(id);
      if (!target) {
        const d = getDeployment(db, id);
        target = { d, shapes: seriesShapes(db, id) };
        deployments.set(id, target);
      }
      const rows = sliceRows(
        target.d,
        [{ ...parsed.data, deployment_id: id }],
        target.shapes,
        now,
        (_, field) => `${where}: ${field}`,
      );
      upsertSeries(db, rows, now ?? target.d.last_event_at);
      summary.slices++;
      summary.series_written += rows.length;
      summary.deployments[id] = (summary.deployments[id] ?? 0) + 1;
      if (summary.slices % 5000 === 0) opts.onProgress?.(summary);
    }
    for (const [id, count] of Object.entries(summary.deployments)) {
      const d = deployments.get(id)!.d;
      appendAudit(
        db,
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

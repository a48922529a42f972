import { InvalidInputError, NotFoundError, RefusedError } from "../core/errors.js";
import { parseSliceLine } from "../core/slice-line.js";
import { appendAudit } from "../ledger/audit.js";
import { type DeploymentRecord, getDeployment } from "../ledger/deployments.js";
import { commitStage, dropStage, openStage, stagedSpan, stageRows } from "../ledger/ingest-stage.js";
import { type SeriesRow, type SeriesShape, seriesShapes } from "../ledger/slices.js";
import type { OperationContext } from "./context.js";
import { sliceRows } from "./record-metrics.js";
import { IncomingCounters } from "./running-totals.js";

export interface IngestSummary {
  lines: number;
  slices: number;
  series_written: number;
  deployments: Record<string, number>;
}

interface Target {
  d: DeploymentRecord;
  /** Stored shapes plus what the stream has added so far (sliceRows keeps it up to date). */
  shapes: Map<string, SeriesShape>;
  /** The shapes the stream itself uses, to re-check against stored ones written meanwhile. */
  streamShapes: Map<string, SeriesShape>;
  counters: IncomingCounters;
}

// Rows staged per temp-table transaction: bounded memory, few transactions.
const STAGE_BATCH = 2_000;

/**
 * Streams NDJSON slices into the ledger, all or nothing for the whole stream. Each line is read
 * and checked as it arrives and staged in a temp table (no lock on the ledger, bounded memory);
 * at the end one short write transaction moves everything in, after re-checking the deployments
 * (a rollback that came meanwhile, series another writer stored). A bad line stops the ingest
 * naming its line number and field; nothing of the stream is kept.
 */
export async function ingestSlices(
  ctx: OperationContext,
  lines: AsyncIterable<string>,
  opts: { deploymentId?: string; onProgress?: (s: IngestSummary) => void } = {},
): Promise<IngestSummary> {
  const ledger = ctx.ledger;
  const summary: IngestSummary = { lines: 0, slices: 0, series_written: 0, deployments: {} };
  const targets = new Map<string, Target>();
  const now = ctx.clock.mode === "real" ? ctx.clock.now() : undefined;
  const storedAt = ledger.changeToken();
  let batch: { row: SeriesRow; recordedAt: number }[] = [];
  openStage(ledger);
  try {
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
      let target = targets.get(id);
      if (!target) {
        target = ledger.read(() => {
          let d: DeploymentRecord;
          try {
            d = getDeployment(ledger, id);
          } catch (error) {
            if (error instanceof NotFoundError)
              throw new NotFoundError(`${where}: deployment_id`, error.message);
            throw error;
          }
          return {
            d,
            shapes: seriesShapes(ledger, id),
            streamShapes: new Map(),
            counters: new IncomingCounters(),
          };
        });
        targets.set(id, target);
      }
      const rows = sliceRows(
        target.d,
        [{ ...slice, deployment_id: id }],
        target.shapes,
        now,
        (_, field) => `${where}: ${field}`,
      );
      for (const r of rows) {
        const shape = target.shapes.get(r.series);
        if (shape) target.streamShapes.set(r.series, shape);
        batch.push({ row: r, recordedAt: now ?? target.d.last_event_at });
      }
      target.counters.add(rows, where);
      if (batch.length >= STAGE_BATCH) {
        stageRows(ledger, batch);
        batch = [];
      }
      summary.slices++;
      summary.series_written += rows.length;
      summary.deployments[id] = (summary.deployments[id] ?? 0) + 1;
      if (summary.slices % 5000 === 0) opts.onProgress?.(summary);
    }
    stageRows(ledger, batch);
    batch = [];
    ledger.read(() => {
      for (const t of targets.values()) t.counters.refuse(ledger, t.d);
    });
    ledger.write(() => {
      const latest = stagedSpan(ledger);
      const changedMeanwhile = ledger.changeToken() !== storedAt;
      for (const [id, target] of targets) {
        const d = getDeployment(ledger, id);
        const last = latest.get(id);
        if (d.ended_at !== null && last !== undefined && last >= d.ended_at) {
          throw new RefusedError(
            "deployment_ended",
            `deployment ${id} ended (${d.state}) at ${new Date(d.ended_at).toISOString()} while this file was read, and the file holds slices from after that; nothing was stored`,
          );
        }
        if (changedMeanwhile) refuseShapesChanged(id, target.streamShapes, seriesShapes(ledger, id));
      }
      commitStage(ledger);
      for (const [id, count] of Object.entries(summary.deployments)) {
        const d = targets.get(id)!.d;
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
    });
    return summary;
  } finally {
    dropStage(ledger);
  }
}

/** Another writer stored a series while the stream was read: its shape must still agree. */
function refuseShapesChanged(
  id: string,
  stream: Map<string, SeriesShape>,
  stored: Map<string, SeriesShape>,
): void {
  for (const [series, mine] of stream) {
    const theirs = stored.get(series);
    if (!theirs) continue;
    const sameBounds =
      mine.bounds === undefined ||
      theirs.bounds === undefined ||
      (mine.bounds.length === theirs.bounds.length && mine.bounds.every((b, i) => b === theirs.bounds![i]));
    const mixed = (mine.segmented && theirs.whole) || (mine.whole && theirs.segmented);
    if (theirs.kind !== mine.kind || !sameBounds || mixed) {
      throw new RefusedError(
        "concurrent_change",
        `while this file was read, another writer stored series ${series} of deployment ${id} in a shape this file does not match (kind, bounds or segments); nothing was stored. Check the data and retry`,
      );
    }
  }
}

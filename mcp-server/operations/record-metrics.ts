import { z } from "zod";
import { canonicalHash } from "../core/canonical-json.js";
import { durationMs } from "../core/duration.js";
import { InvalidInputError, RefusedError } from "../core/errors.js";
import { deploymentIdSchema } from "../core/ids.js";
import { orNull } from "../core/nullable.js";
import { dimsKey, type Slice, sliceSchema } from "../core/slice.js";
import { appendAudit } from "../ledger/audit.js";
import { type DeploymentRecord, getDeployment } from "../ledger/deployments.js";
import {
  type SeriesRow,
  type SeriesShape,
  seriesShapes,
  UNITS_SERIES,
  upsertSeries,
} from "../ledger/slices.js";
import { type OperationContext, resolveAt } from "./context.js";
import { refuseRunningTotals } from "./running-totals.js";

export const recordMetricsInput = z.strictObject({
  deployment_id: deploymentIdSchema,
  slices: z
    .array(sliceSchema)
    .min(1, "send at least one slice")
    .max(10_000, "send at most 10 000 slices per call"),
  at: z
    .string()
    .optional()
    .describe("Manual clock only: ISO-8601 time to treat as now (slices must start before it)"),
});
export type RecordMetricsInput = z.infer<typeof recordMetricsInput>;

export const recordMetricsOutput = z.object({
  accepted: z.number().int().describe("Slices stored (a re-sent series replaces the stored one)"),
  series_written: z.number().int(),
  from: orNull(z.string()),
  to: orNull(z.string()).describe("End of the newest slice"),
  inputs_sha256: z.string(),
});
export type RecordMetricsOutput = z.infer<typeof recordMetricsOutput>;

/**
 * Checks every slice against the deployment (alignment, time, shapes already stored) and turns
 * them into series rows. Throws on the first problem, naming the slice index and field, before
 * anything is written.
 */
export function sliceRows(
  d: DeploymentRecord,
  slices: Slice[],
  shapes: Map<string, SeriesShape>,
  now: number | undefined,
  fieldOf: (index: number, field: string) => string = (index, field) => `slices[${index}].${field}`,
): SeriesRow[] {
  const width = durationMs(d.policy.slice);
  const rows: SeriesRow[] = [];
  const seen = new Set<string>();
  slices.forEach((s, i) => {
    const at = (field: string) => fieldOf(i, field);
    if (s.deployment_id !== undefined && s.deployment_id !== d.id) {
      throw new InvalidInputError(at("deployment_id"), `slice belongs to ${s.deployment_id}, not ${d.id}`);
    }
    const t = Date.parse(s.t);
    if (t % width !== 0) {
      throw new InvalidInputError(
        at("t"),
        `${s.t} is not aligned to the policy's slice width (${d.policy.slice}); slices start on multiples of it`,
      );
    }
    if (now !== undefined && t >= now) {
      throw new InvalidInputError(
        at("t"),
        `${s.t} starts at or after now (${new Date(now).toISOString()}); slices describe the past`,
      );
    }
    if (d.ended_at !== null && t >= d.ended_at) {
      throw new RefusedError(
        "deployment_ended",
        `${at("t")}: ${s.t} is after the deployment ended (${new Date(d.ended_at).toISOString()})`,
      );
    }
    refuseEventsAboveTrials(d, s, at);
    const key = dimsKey(s.dims);
    const push = (series: string, value: SeriesRow["value"], field: string) => {
      const id = `${s.cohort}|${t}|${key}|${series}|${s.instance ?? ""}`;
      if (seen.has(id)) {
        throw new InvalidInputError(
          at(field),
          `series ${series} for this cohort, time, segment and instance appears twice in one call; send it once`,
        );
      }
      seen.add(id);
      const shape = shapes.get(series);
      if (shape && shape.kind !== value.kind) {
        throw new InvalidInputError(
          at(field),
          `series ${series} is stored as a ${shape.kind}, not a ${value.kind}`,
        );
      }
      if (value.kind === "histogram") {
        const bounds = shape?.bounds;
        if (
          bounds &&
          (bounds.length !== value.value.bounds.length || bounds.some((b, j) => b !== value.value.bounds[j]))
        ) {
          throw new InvalidInputError(
            `${at(field)}.bounds`,
            `series ${series} keeps the same bounds for the whole deployment (${JSON.stringify(bounds)}); re-binning is refused`,
          );
        }
      }
      if (shape && ((key === "" && shape.segmented) || (key !== "" && shape.whole))) {
        throw new InvalidInputError(
          at("dims"),
          `series ${series} is already stored ${shape.segmented ? "by segment" : "for the whole cohort"}; mixing segmented and whole slices is refused (the whole is the sum of its segments)`,
        );
      }
      const next: SeriesShape = shape ?? { kind: value.kind, segmented: key !== "", whole: key === "" };
      if (value.kind === "histogram" && !next.bounds) next.bounds = value.value.bounds;
      shapes.set(series, next);
      const row: SeriesRow = { deploymentId: d.id, cohort: s.cohort, t, dimsKey: key, series, value };
      if (s.instance !== undefined) row.instance = s.instance;
      rows.push(row);
    };
    for (const [name, v] of Object.entries(s.counters ?? {}))
      push(name, { kind: "counter", value: v }, `counters.${name}`);
    for (const [name, v] of Object.entries(s.histograms ?? {}))
      push(name, { kind: "histogram", value: v }, `histograms.${name}`);
    for (const [name, v] of Object.entries(s.moments ?? {}))
      push(name, { kind: "moments", value: v }, `moments.${name}`);
    if (s.units !== undefined) push(UNITS_SERIES, { kind: "units", value: s.units }, "units");
  });
  return rows;
}

/** Events are a subset of trials: more errors than requests is a broken sender, never a rate. */
function refuseEventsAboveTrials(d: DeploymentRecord, s: Slice, at: (field: string) => string): void {
  for (const m of d.policy.metrics) {
    if (m.type !== "ratio") continue;
    const events = s.counters?.[m.events];
    const trials = s.counters?.[m.trials];
    if (events !== undefined && trials !== undefined && events > trials) {
      throw new InvalidInputError(
        at(`counters.${m.events}`),
        `${m.events} = ${events} is greater than ${m.trials} = ${trials} in the same slice; metric ${m.name} counts ${m.events} among ${m.trials}, so it can never exceed it. Fix the sender`,
      );
    }
  }
}

/** Stores slices all or nothing; a retry of the same (cohort, t, segment, series) replaces it. */
export function recordMetrics(ctx: OperationContext, input: RecordMetricsInput): RecordMetricsOutput {
  return ctx.ledger.write(() => {
    const ledger = ctx.ledger;
    const d = getDeployment(ledger, input.deployment_id);
    // "now" for the future check: the wall clock, or an explicit manual `at`.
    const now =
      ctx.clock.mode === "real" || input.at !== undefined
        ? resolveAt(ctx, input.at, d.last_event_at)
        : undefined;
    const rows = sliceRows(d, input.slices, seriesShapes(ledger, d.id), now);
    refuseRunningTotals(ledger, d, rows);
    const recordedAt = now ?? d.last_event_at;
    upsertSeries(ledger, rows, recordedAt);
    const width = durationMs(d.policy.slice);
    let from: number | null = null;
    let to: number | null = null;
    for (const r of rows) {
      if (from === null || r.t < from) from = r.t;
      if (to === null || r.t + width > to) to = r.t + width;
    }
    const inputs_sha256 = canonicalHash(input.slices);
    appendAudit(
      ledger,
      {
        deploymentId: d.id,
        at: recordedAt,
        actor: ctx.actor,
        action: "record_metrics",
        details: { slices: input.slices.length, series: rows.length, from, to, inputs_sha256 },
      },
      ctx.auditHmacKey,
    );
    return {
      accepted: input.slices.length,
      series_written: rows.length,
      from: from === null ? null : new Date(from).toISOString(),
      to: to === null ? null : new Date(to).toISOString(),
      inputs_sha256,
    };
  });
}

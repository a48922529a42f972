import { z } from "zod";
import type { ProviderError } from "../core/decide/index.js";
import type { Reason } from "../core/decision.js";
import { durationMs } from "../core/duration.js";
import { renderTemplate } from "../core/policy/promql-template.js";
import type { Policy } from "../core/policy/schema.js";
import type { Cohort, Slice } from "../core/slice.js";
import { appendAudit } from "../ledger/audit.js";
import { recentDecisionHeads } from "../ledger/decisions.js";
import { type DeploymentRecord, getDeployment } from "../ledger/deployments.js";
import { type SeriesRow, seriesShapes, upsertSeries } from "../ledger/slices.js";
import { getDeploymentVars, newestSlices } from "../ledger/source.js";
import { type ProviderFactory, sharedProvider } from "../metrics/index.js";
import type { SeriesRequest, SlicePoint, SourceFailure } from "../metrics/provider.js";
import { type OperationContext, resolveAt } from "./context.js";
import { latestSeen } from "./judge.js";
import { sliceRows } from "./record-metrics.js";

// The pull path: for a deployment whose policy names a source, fetch the complete slices not
// yet stored (async, outside any transaction), then validate them exactly as record_metrics
// does and store them in one short write. Decisions then judge stored slices only, so
// recheck_decision, replay and the inputs hash work as with pushed data. Failures become
// provider errors that the next decide for the deployment turns into a provider_error hold.

export const pullOutcomeSchema = z.object({
  deployment_id: z.string(),
  pulled: z.boolean().describe("false when the policy has no source or the deployment has ended"),
  requests: z.number().int().describe("query_range requests sent for this look"),
  series_stored: z.number().int(),
  through: z.string().nullable().describe("End of the newest complete slice this look could use"),
  errors: z.array(
    z.object({ series: z.string(), cohort: z.string(), cause: z.string(), message: z.string() }),
  ),
});
export type PullOutcome = z.infer<typeof pullOutcomeSchema>;

export interface PullOptions {
  /** Manual clock: the time to treat as now. */
  at?: string | undefined;
  providers?: ProviderFactory;
}

/**
 * A pull's failures as the judge takes them: one per series, naming the cohorts that failed. The
 * caller hands them to the look that follows the pull (decide, tick), which holds on them.
 */
export function sourceErrorsOf(outcome: PullOutcome): ProviderError[] {
  const bySeries = new Map<string, PullOutcome["errors"]>();
  for (const f of outcome.errors) bySeries.set(f.series, [...(bySeries.get(f.series) ?? []), f]);
  return [...bySeries.entries()].map(([series, fs]) => {
    const messages = [...new Set(fs.map((f) => f.message))];
    const cohorts = fs.map((f) => f.cohort).join(" and ");
    return { series, message: `${cohorts}: ${messages.join("; ")}` };
  });
}

/** Consecutive looks with a failed source before `beforeId`, from the recorded decisions' reason codes. */
export function failedLooksBefore(
  ctx: OperationContext,
  d: Pick<DeploymentRecord, "id" | "policy">,
  beforeId = Number.MAX_SAFE_INTEGER,
): number {
  const limit = d.policy.source?.max_errors ?? 4;
  let n = 0;
  for (const x of recentDecisionHeads(ctx.ledger, d.id, beforeId, limit)) {
    if (!x.reasons.some((r) => r.code === "provider_error")) break;
    n++;
  }
  return n;
}

const ERROR_TEXT = /^(.+?): the metric source failed \((.*)\); never a pass/s;

/** The provider errors a recorded decision judged with, read back from its reasons (for recheck). */
export function providerErrorsOf(reasons: readonly Reason[]): ProviderError[] {
  const out: ProviderError[] = [];
  for (const r of reasons) {
    if (r.code !== "provider_error") continue;
    const m = ERROR_TEXT.exec(r.message);
    if (m) out.push({ series: m[1]!, message: m[2]! });
  }
  return out;
}

export function cohortLabels(policy: Policy): [Cohort, string][] {
  const map = policy.source?.cohorts ?? {};
  const out: [Cohort, string][] = [
    ["canary", map.canary ?? "canary"],
    ["control", map.control ?? "control"],
  ];
  if (map.excluded !== undefined) out.push(["excluded", map.excluded]);
  return out;
}

/** The series a policy's source queries, each with the kind the judge reads it as. */
export function sourceSeries(
  policy: Policy,
): { series: string; kind: "counter" | "histogram"; query: string }[] {
  const histograms = new Set(policy.metrics.flatMap((m) => (m.type === "histogram" ? [m.series] : [])));
  return Object.entries(policy.source?.series ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([series, query]) => ({ series, kind: histograms.has(series) ? "histogram" : "counter", query }));
}

/** Query_range's limit is 11 000 points per series: a look never asks for more. */
const MAX_SLICES_PER_REQUEST = 10_000;

function emptyOutcome(id: string): PullOutcome {
  return { deployment_id: id, pulled: false, requests: 0, series_stored: 0, through: null, errors: [] };
}

export async function pullMetrics(
  ctx: OperationContext,
  deploymentId: string,
  options: PullOptions = {},
): Promise<PullOutcome> {
  const db = ctx.ledger;
  const d = getDeployment(db, deploymentId);
  const source = d.policy.source;
  if (!source || (d.state !== "canary" && d.state !== "paused")) return emptyOutcome(d.id);
  const now = resolveAt(ctx, options.at, latestSeen(ctx, d));
  const width = durationMs(d.policy.slice);
  const lag = durationMs(source.lag);
  // Complete slices only: t + slice + lag <= now.
  const last = Math.floor((now - lag - width) / width) * width;
  const first = Math.floor(d.created_at / width) * width;
  const provider = (options.providers ?? sharedProvider)(source);
  const vars = getDeploymentVars(db, d.id);
  const newest = newestSlices(db, d.id);
  const failures: SourceFailure[] = [];
  const requests: SeriesRequest[] = [];
  for (const { series, kind, query } of sourceSeries(d.policy)) {
    for (const [cohort, label] of cohortLabels(d.policy)) {
      const stored = newest.get(`${cohort}|${series}`);
      const from = Math.max(
        first,
        stored === undefined ? first : stored + width,
        last - (MAX_SLICES_PER_REQUEST - 1) * width,
      );
      if (from > last) continue;
      let rendered: string;
      try {
        rendered = renderTemplate(query, {
          deployment: d.id,
          cohort: label,
          service: d.service,
          version: d.version,
          slice: d.policy.slice,
          vars,
        });
      } catch (error) {
        failures.push({
          series,
          cohort,
          cause: "config",
          message: `${error instanceof Error ? error.message : String(error)}; start the deployment with it (vars, --var)`,
        });
        continue;
      }
      requests.push({ series, kind, cohort, query: rendered, from, to: last, step: width });
    }
  }
  const results = await Promise.all(requests.map((r) => provider.fetchSeries(r)));
  const fetched: { req: SeriesRequest; points: SlicePoint[] }[] = [];
  results.forEach((res, i) => {
    if (res.ok) fetched.push({ req: requests[i]!, points: res.points });
    else failures.push(res.error);
  });

  let stored = 0;
  if (fetched.some((f) => f.points.length > 0)) {
    stored = ctx.ledger.write(() => {
      const fresh = getDeployment(db, d.id);
      if (fresh.state !== "canary" && fresh.state !== "paused") return 0;
      const shapes = seriesShapes(db, d.id);
      const have = newestSlices(db, d.id);
      const rows: SeriesRow[] = [];
      for (const { req, points } of fetched) {
        const after = have.get(`${req.cohort}|${req.series}`) ?? Number.NEGATIVE_INFINITY;
        const slices: Slice[] = points
          .filter((p) => p.t > after)
          .map((p) => {
            const s: Slice = { t: new Date(p.t).toISOString(), cohort: req.cohort };
            if (p.value.kind === "counter") s.counters = { [req.series]: p.value.value };
            else s.histograms = { [req.series]: p.value.value };
            return s;
          });
        if (slices.length === 0) continue;
        // The same validation as record_metrics; a series it refuses fails alone.
        const trial = new Map(shapes);
        try {
          rows.push(...sliceRows(fresh, slices, trial, now));
          for (const [k, v] of trial) shapes.set(k, v);
        } catch (error) {
          failures.push({
            series: req.series,
            cohort: req.cohort,
            cause: "bad_value",
            message: `the fetched slices were refused: ${error instanceof Error ? error.message : String(error)}`,
          });
        }
      }
      if (rows.length === 0) return 0;
      upsertSeries(db, rows, now);
      appendAudit(
        db,
        {
          deploymentId: d.id,
          at: now,
          actor: ctx.actor,
          action: "pull_metrics",
          details: {
            series: rows.length,
            from: Math.min(...rows.map((r) => r.t)),
            to: Math.max(...rows.map((r) => r.t)) + width,
          },
        },
        ctx.auditHmacKey,
      );
      return rows.length;
    });
  }

  return {
    deployment_id: d.id,
    pulled: true,
    requests: requests.length,
    series_stored: stored,
    through: new Date(last + width).toISOString(),
    errors: failures.map((f) => ({ series: f.series, cohort: f.cohort, cause: f.cause, message: f.message })),
  };
}

/**
 * The one-line call transports make before compare, decide or tick of one deployment: returns
 * the source errors for that look (none without a source).
 */
export async function pullBefore(
  ctx: OperationContext,
  input: { deployment_id: string; at?: string | undefined },
  providers?: ProviderFactory,
): Promise<ProviderError[]> {
  return sourceErrorsOf(
    await pullMetrics(ctx, input.deployment_id, { at: input.at, ...(providers ? { providers } : {}) }),
  );
}

import type { Database, Statement } from "better-sqlite3";
import type { StoredSlice } from "../core/deployment.js";
import type { Cohort, Histogram, Moments } from "../core/slice.js";
import { prepared, sqlOf } from "./connection.js";
import type { Ledger } from "./open.js";

// Slices are stored one row per (deployment, cohort, slice start, segment, series, instance):
// contributions of different instances add up when read; re-sending a series replaces its own
// instance's contribution (retries are safe), or the whole series when the slice names no
// instance; a series left out of a re-sent slice is kept.

export type SeriesValue =
  | { kind: "counter"; value: number }
  | { kind: "histogram"; value: Histogram }
  | { kind: "moments"; value: Moments }
  | { kind: "units"; value: number };

export interface SeriesRow {
  deploymentId: string;
  cohort: Cohort;
  t: number;
  dimsKey: string;
  series: string;
  /** The pod or pusher that measured it; undefined replaces every instance's contribution. */
  instance?: string;
  value: SeriesValue;
}

/** The series name under which a slice's `units` count is kept. */
export const UNITS_SERIES = "@units";

interface WriteStatements {
  upsert: Statement;
  clearSeries: Statement;
  logWrite: Statement;
}

// Ingest calls this once per slice: prepare the statements once per connection, not per call.
const writeStatements = new WeakMap<Database, WriteStatements>();

function statementsOf(db: Database): WriteStatements {
  let stmts = writeStatements.get(db);
  if (!stmts) {
    stmts = {
      upsert: prepared(
        db,
        `INSERT INTO metric_series (deployment_id, cohort, t, dims_key, series, instance, kind, value_json, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (deployment_id, cohort, t, dims_key, series, instance) DO UPDATE SET
           kind = excluded.kind, value_json = excluded.value_json, recorded_at = excluded.recorded_at`,
      ),
      clearSeries: prepared(
        db,
        "DELETE FROM metric_series WHERE deployment_id = ? AND cohort = ? AND t = ? AND dims_key = ? AND series = ?",
      ),
      logWrite: prepared(db, "INSERT INTO slice_writes (deployment_id, first_t) VALUES (?, ?)"),
    };
    writeStatements.set(db, stmts);
  }
  return stmts;
}

export function upsertSeries(ledger: Ledger, rows: SeriesRow[], recordedAt: number): void {
  const { upsert, clearSeries, logWrite } = statementsOf(sqlOf(ledger));
  const firstT = new Map<string, number>();
  for (const r of rows) {
    firstT.set(r.deploymentId, Math.min(firstT.get(r.deploymentId) ?? r.t, r.t));
    if (r.instance === undefined) clearSeries.run(r.deploymentId, r.cohort, r.t, r.dimsKey, r.series);
    upsert.run(
      r.deploymentId,
      r.cohort,
      r.t,
      r.dimsKey,
      r.series,
      r.instance ?? "",
      r.value.kind,
      JSON.stringify(r.value.value),
      recordedAt,
    );
  }
  for (const [id, t] of firstT) logWrite.run(id, t);
}

/** What was written to a deployment's slices after `revision`: the latest revision and the earliest slice touched. */
export interface SliceWrites {
  /** The deployment's latest write (-1 before any): lower than one seen before means another ledger file. */
  revision: number;
  /** Start of the earliest slice written after the revision asked about; null when nothing was. */
  firstT: number | null;
}

export function sliceWritesSince(ledger: Ledger, deploymentId: string, revision: number): SliceWrites {
  const db = sqlOf(ledger);
  const latest = prepared(db, "SELECT MAX(revision) FROM slice_writes WHERE deployment_id = ?")
    .pluck()
    .get(deploymentId) as number | null;
  const firstT = prepared(
    db,
    "SELECT MIN(first_t) FROM slice_writes WHERE deployment_id = ? AND revision > ?",
  )
    .pluck()
    .get(deploymentId, revision) as number | null;
  return { revision: latest ?? -1, firstT };
}

interface StoredRow {
  cohort: Cohort;
  t: number;
  dims_key: string;
  series: string;
  kind: SeriesValue["kind"];
  value_json: string;
}

/** The slices of a deployment that start in [from, before) (ms), assembled per (cohort, t, segment). */
export function loadSlices(
  ledger: Ledger,
  deploymentId: string,
  before = Number.MAX_SAFE_INTEGER,
  from = Number.MIN_SAFE_INTEGER,
): StoredSlice[] {
  const db = sqlOf(ledger);
  // The cohorts are listed so that the primary key (deployment, cohort, t, ...) bounds t too.
  const rows = prepared(
    db,
    "SELECT cohort, t, dims_key, series, kind, value_json FROM metric_series WHERE deployment_id = ? AND cohort IN ('canary', 'control', 'excluded') AND t >= ? AND t < ? ORDER BY t, cohort, dims_key, series, instance",
  ).all(deploymentId, from, before) as StoredRow[];
  const slices: StoredSlice[] = [];
  let current: StoredSlice | undefined;
  for (const r of rows) {
    if (!current || current.t !== r.t || current.cohort !== r.cohort || current.dimsKey !== r.dims_key) {
      current = { t: r.t, cohort: r.cohort, dimsKey: r.dims_key, counters: {}, histograms: {}, moments: {} };
      if (r.dims_key) current.dims = Object.fromEntries(JSON.parse(r.dims_key) as [string, string][]);
      slices.push(current);
    }
    // Rows of one series from several instances add up (histograms and moments element-wise).
    const value = JSON.parse(r.value_json) as unknown;
    if (r.kind === "counter")
      current.counters[r.series] = (current.counters[r.series] ?? 0) + (value as number);
    else if (r.kind === "histogram")
      current.histograms[r.series] = addHistograms(current.histograms[r.series], value as Histogram);
    else if (r.kind === "moments")
      current.moments[r.series] = addMoments(current.moments[r.series], value as Moments);
    else current.units = (current.units ?? 0) + (value as number);
  }
  return slices;
}

function addHistograms(a: Histogram | undefined, b: Histogram): Histogram {
  if (!a) return b;
  // Bounds are the same for the whole deployment (enforced at the door).
  return { bounds: a.bounds, counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)) };
}

function addMoments(a: Moments | undefined, b: Moments): Moments {
  if (!a) return b;
  return { n: a.n + b.n, sum: a.sum + b.sum, sum_sq: a.sum_sq + b.sum_sq };
}

/** What a series already looks like in the ledger: its kind, histogram bounds, and whether it is segmented. */
export interface SeriesShape {
  kind: SeriesValue["kind"];
  bounds?: number[];
  segmented: boolean;
  whole: boolean;
}

export function seriesShapes(ledger: Ledger, deploymentId: string): Map<string, SeriesShape> {
  const db = sqlOf(ledger);
  const shapes = new Map<string, SeriesShape>();
  const rows = prepared(
    db,
    `SELECT series, kind, MAX(dims_key <> '') AS segmented, MAX(dims_key = '') AS whole,
              (SELECT value_json FROM metric_series m2 WHERE m2.deployment_id = m.deployment_id AND m2.series = m.series AND m2.kind = 'histogram' LIMIT 1) AS sample
       FROM metric_series m WHERE deployment_id = ? GROUP BY series, kind`,
  ).all(deploymentId) as {
    series: string;
    kind: SeriesValue["kind"];
    segmented: number;
    whole: number;
    sample: string | null;
  }[];
  for (const r of rows) {
    const shape: SeriesShape = { kind: r.kind, segmented: r.segmented === 1, whole: r.whole === 1 };
    if (r.sample) shape.bounds = (JSON.parse(r.sample) as Histogram).bounds;
    shapes.set(r.series, shape);
  }
  return shapes;
}

export function latestSliceTime(ledger: Ledger, deploymentId: string): number | undefined {
  const db = sqlOf(ledger);
  // Per cohort, so each MAX is one step down the primary key (deployment, cohort, t, ...) rather
  // than a walk over every row of the deployment.
  return (
    (prepared(
      db,
      `SELECT MAX(t) FROM (
         SELECT MAX(t) AS t FROM metric_series WHERE deployment_id = @id AND cohort = 'canary'
         UNION ALL SELECT MAX(t) FROM metric_series WHERE deployment_id = @id AND cohort = 'control'
         UNION ALL SELECT MAX(t) FROM metric_series WHERE deployment_id = @id AND cohort = 'excluded')`,
    )
      .pluck()
      .get({ id: deploymentId }) as number | null) ?? undefined
  );
}

/** A stored counter contribution (one instance's), for the running-total check at the door. */
export interface StoredCounter {
  cohort: Cohort;
  dims_key: string;
  series: string;
  instance: string;
  t: number;
  value: number;
}

/** Stored counter contributions of a deployment with from <= t <= to, oldest first. */
export function countersBetween(
  ledger: Ledger,
  deploymentId: string,
  from: number,
  to: number,
): StoredCounter[] {
  return sqlOf(ledger)
    .prepare(
      `SELECT cohort, dims_key, series, instance, t, CAST(value_json AS REAL) AS value FROM metric_series
       WHERE deployment_id = ? AND kind = 'counter' AND t BETWEEN ? AND ? ORDER BY t`,
    )
    .all(deploymentId, from, to) as StoredCounter[];
}

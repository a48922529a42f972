import type { Database, Statement } from "better-sqlite3";
import type { StoredSlice } from "../core/deployment.js";
import type { Cohort, Histogram, Moments } from "../core/slice.js";
import { sqlOf } from "./connection.js";
import type { Ledger } from "./open.js";

// Slices are stored one row per (deployment, cohort, slice start, segment, series): re-sending a
// series replaces it (retries are safe) and a series left out of a re-sent slice is kept.

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
  value: SeriesValue;
}

/** The series name under which a slice's `units` count is kept. */
export const UNITS_SERIES = "@units";

// Ingest calls this once per slice: prepare the statement once per connection, not per call.
const upsertStatements = new WeakMap<Database, Statement>();

export function upsertSeries(ledger: Ledger, rows: SeriesRow[], recordedAt: number): void {
  const db = sqlOf(ledger);
  let stmt = upsertStatements.get(db);
  if (!stmt) {
    stmt = db.prepare(
      `INSERT INTO metric_series (deployment_id, cohort, t, dims_key, series, kind, value_json, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (deployment_id, cohort, t, dims_key, series) DO UPDATE SET
         kind = excluded.kind, value_json = excluded.value_json, recorded_at = excluded.recorded_at`,
    );
    upsertStatements.set(db, stmt);
  }
  for (const r of rows) {
    stmt.run(
      r.deploymentId,
      r.cohort,
      r.t,
      r.dimsKey,
      r.series,
      r.value.kind,
      JSON.stringify(r.value.value),
      recordedAt,
    );
  }
}

interface StoredRow {
  cohort: Cohort;
  t: number;
  dims_key: string;
  series: string;
  kind: SeriesValue["kind"];
  value_json: string;
}

/** All slices of a deployment that start before `before` (ms), assembled per (cohort, t, segment). */
export function loadSlices(
  ledger: Ledger,
  deploymentId: string,
  before = Number.MAX_SAFE_INTEGER,
): StoredSlice[] {
  const db = sqlOf(ledger);
  const rows = db
    .prepare(
      "SELECT cohort, t, dims_key, series, kind, value_json FROM metric_series WHERE deployment_id = ? AND t < ? ORDER BY t, cohort, dims_key, series",
    )
    .all(deploymentId, before) as StoredRow[];
  const slices: StoredSlice[] = [];
  let current: StoredSlice | undefined;
  for (const r of rows) {
    if (!current || current.t !== r.t || current.cohort !== r.cohort || current.dimsKey !== r.dims_key) {
      current = { t: r.t, cohort: r.cohort, dimsKey: r.dims_key, counters: {}, histograms: {}, moments: {} };
      if (r.dims_key) current.dims = Object.fromEntries(JSON.parse(r.dims_key) as [string, string][]);
      slices.push(current);
    }
    const value = JSON.parse(r.value_json) as unknown;
    if (r.kind === "counter") current.counters[r.series] = value as number;
    else if (r.kind === "histogram") current.histograms[r.series] = value as Histogram;
    else if (r.kind === "moments") current.moments[r.series] = value as Moments;
    else current.units = value as number;
  }
  return slices;
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
  const rows = db
    .prepare(
      `SELECT series, kind, MAX(dims_key <> '') AS segmented, MAX(dims_key = '') AS whole,
              (SELECT value_json FROM metric_series m2 WHERE m2.deployment_id = m.deployment_id AND m2.series = m.series AND m2.kind = 'histogram' LIMIT 1) AS sample
       FROM metric_series m WHERE deployment_id = ? GROUP BY series, kind`,
    )
    .all(deploymentId) as {
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
  return (
    (db.prepare("SELECT MAX(t) FROM metric_series WHERE deployment_id = ?").pluck().get(deploymentId) as
      | number
      | null) ?? undefined
  );
}

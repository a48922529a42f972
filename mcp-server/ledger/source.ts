import type { Cohort } from "../core/slice.js";
import { prepared, sqlOf } from "./connection.js";
import type { Ledger } from "./open.js";

// What the metric source needs from the ledger: a deployment's query variables, and how far
// each pulled series already reaches (so a look fetches only slices not yet stored).

export function setDeploymentVars(ledger: Ledger, deploymentId: string, vars: Record<string, string>): void {
  const db = sqlOf(ledger);
  prepared(db, "INSERT INTO deployment_vars (deployment_id, vars_json) VALUES (?, ?)").run(
    deploymentId,
    JSON.stringify(vars),
  );
}

export function getDeploymentVars(ledger: Ledger, deploymentId: string): Record<string, string> {
  const db = sqlOf(ledger);
  const json = prepared(db, "SELECT vars_json FROM deployment_vars WHERE deployment_id = ?")
    .pluck()
    .get(deploymentId) as string | undefined;
  return json ? (JSON.parse(json) as Record<string, string>) : {};
}

/** The newest stored whole-cohort slice start per (cohort, series). */
export function newestSlices(ledger: Ledger, deploymentId: string): Map<string, number> {
  const db = sqlOf(ledger);
  const rows = prepared(
    db,
    "SELECT cohort, series, MAX(t) AS t FROM metric_series WHERE deployment_id = ? AND dims_key = '' GROUP BY cohort, series",
  ).all(deploymentId) as { cohort: Cohort; series: string; t: number }[];
  return new Map(rows.map((r) => [`${r.cohort}|${r.series}`, r.t]));
}

import type { Database } from "better-sqlite3";
import type { Cohort } from "../core/slice.js";

// What the metric source needs from the ledger: a deployment's query variables, and how far
// each pulled series already reaches (so a look fetches only slices not yet stored).

export function setDeploymentVars(db: Database, deploymentId: string, vars: Record<string, string>): void {
  db.prepare("INSERT INTO deployment_vars (deployment_id, vars_json) VALUES (?, ?)").run(
    deploymentId,
    JSON.stringify(vars),
  );
}

export function getDeploymentVars(db: Database, deploymentId: string): Record<string, string> {
  const json = db
    .prepare("SELECT vars_json FROM deployment_vars WHERE deployment_id = ?")
    .pluck()
    .get(deploymentId) as string | undefined;
  return json ? (JSON.parse(json) as Record<string, string>) : {};
}

/** The newest stored whole-cohort slice start per (cohort, series). */
export function newestSlices(db: Database, deploymentId: string): Map<string, number> {
  const rows = db
    .prepare(
      "SELECT cohort, series, MAX(t) AS t FROM metric_series WHERE deployment_id = ? AND dims_key = '' GROUP BY cohort, series",
    )
    .all(deploymentId) as { cohort: Cohort; series: string; t: number }[];
  return new Map(rows.map((r) => [`${r.cohort}|${r.series}`, r.t]));
}

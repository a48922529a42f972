import { sqlOf } from "./connection.js";
import { translated } from "./errors.js";
import type { Ledger } from "./open.js";
import type { SeriesRow } from "./slices.js";

// A bulk ingest stages its rows in a TEMP table first: it lives in this connection's own temp
// database, so staging takes no lock on the ledger and a long or slow stream never blocks the
// brake. The rows then move into metric_series in one short write transaction (all or nothing).

const STAGE = "temp.ingest_stage";

/** Starts an empty stage on this connection (a previous, abandoned one is dropped). */
export function openStage(ledger: Ledger): void {
  const db = sqlOf(ledger);
  translated(ledger.path, () => {
    db.exec(`DROP TABLE IF EXISTS ${STAGE}`);
    db.exec(`CREATE TEMP TABLE ingest_stage (
      deployment_id TEXT NOT NULL,
      cohort        TEXT NOT NULL,
      t             INTEGER NOT NULL,
      dims_key      TEXT NOT NULL,
      series        TEXT NOT NULL,
      instance      TEXT NOT NULL,
      replace_all   INTEGER NOT NULL,
      kind          TEXT NOT NULL,
      value_json    TEXT NOT NULL,
      recorded_at   INTEGER NOT NULL,
      PRIMARY KEY (deployment_id, cohort, t, dims_key, series, instance)
    ) WITHOUT ROWID`);
  });
}

/**
 * Adds rows to the stage with the ledger's replacement rules applied within the stream: a later
 * row for the same contribution replaces an earlier one, and a row without instance replaces
 * every staged contribution of its series.
 */
export function stageRows(ledger: Ledger, rows: { row: SeriesRow; recordedAt: number }[]): void {
  const db = sqlOf(ledger);
  const clear = db.prepare(
    `DELETE FROM ${STAGE} WHERE deployment_id = ? AND cohort = ? AND t = ? AND dims_key = ? AND series = ?`,
  );
  const put = db.prepare(
    `INSERT OR REPLACE INTO ${STAGE} (deployment_id, cohort, t, dims_key, series, instance, replace_all, kind, value_json, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // A transaction that touches only the temp database: no lock on the ledger file.
  translated(ledger.path, () =>
    db
      .transaction(() => {
        for (const { row: r, recordedAt } of rows) {
          const replaceAll = r.instance === undefined;
          if (replaceAll) clear.run(r.deploymentId, r.cohort, r.t, r.dimsKey, r.series);
          put.run(
            r.deploymentId,
            r.cohort,
            r.t,
            r.dimsKey,
            r.series,
            r.instance ?? "",
            replaceAll ? 1 : 0,
            r.value.kind,
            JSON.stringify(r.value.value),
            recordedAt,
          );
        }
      })
      .deferred(),
  );
}

/**
 * Moves the stage into metric_series. Call inside `ledger.write`: a few set-based statements,
 * so the write lock is held for the copy only, not for the reading and checking of the stream.
 */
export function commitStage(ledger: Ledger): number {
  const db = sqlOf(ledger);
  // Only stored contributions of named instances need clearing (the upsert replaces the
  // no-instance one); most ledgers have none, and then the lock is not spent looking.
  const hasInstances = db
    .prepare(
      `SELECT 1 FROM main.metric_series WHERE instance <> '' AND deployment_id IN (SELECT DISTINCT deployment_id FROM ${STAGE}) LIMIT 1`,
    )
    .pluck()
    .get();
  if (hasInstances) {
    db.exec(
      `DELETE FROM main.metric_series WHERE instance <> '' AND (deployment_id, cohort, t, dims_key, series) IN
         (SELECT deployment_id, cohort, t, dims_key, series FROM ${STAGE} WHERE replace_all = 1)`,
    );
  }
  db.exec(
    `INSERT INTO main.slice_writes (deployment_id, first_t) SELECT deployment_id, MIN(t) FROM ${STAGE} GROUP BY deployment_id`,
  );
  return db
    .prepare(
      `INSERT INTO main.metric_series (deployment_id, cohort, t, dims_key, series, instance, kind, value_json, recorded_at)
       SELECT deployment_id, cohort, t, dims_key, series, instance, kind, value_json, recorded_at FROM ${STAGE} WHERE true
       ON CONFLICT (deployment_id, cohort, t, dims_key, series, instance) DO UPDATE SET
         kind = excluded.kind, value_json = excluded.value_json, recorded_at = excluded.recorded_at`,
    )
    .run().changes;
}

/** The latest staged slice start per deployment (to re-check against a rollback that came meanwhile). */
export function stagedSpan(ledger: Ledger): Map<string, number> {
  const rows = sqlOf(ledger)
    .prepare(`SELECT deployment_id AS id, MAX(t) AS last FROM ${STAGE} GROUP BY deployment_id`)
    .all() as { id: string; last: number }[];
  return new Map(rows.map((r) => [r.id, r.last]));
}

export function dropStage(ledger: Ledger): void {
  const db = sqlOf(ledger);
  if (db.open) db.exec(`DROP TABLE IF EXISTS ${STAGE}`);
}

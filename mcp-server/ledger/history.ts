import type { Reason, Verdict } from "../core/decision.js";
import { prepared, sqlOf } from "./connection.js";
import { type DeploymentRecord, type DeploymentRow, toDeploymentRecord } from "./deployments.js";
import type { Ledger } from "./open.js";

// Reads for the pages: a deployment's canary exposure so far, and the list page's cards in one
// query (the page of deployments first, then each one's latest decision joined), so the list stays fast with thousands of rows.

/** Sum of each whole-cohort counter (and the per-slice unit counts) the canary has sent so far. */
export function canaryTotals(ledger: Ledger, deploymentId: string): Map<string, number> {
  const rows = sqlOf(ledger)
    .prepare(
      `SELECT series, SUM(CAST(value_json AS REAL)) AS total FROM metric_series
       WHERE deployment_id = ? AND cohort = 'canary' AND dims_key = '' AND kind IN ('counter', 'units')
       GROUP BY series`,
    )
    .all(deploymentId) as { series: string; total: number }[];
  return new Map(rows.map((r) => [r.series, r.total]));
}

export interface DeploymentCard {
  deployment: DeploymentRecord;
  /** Start of the newest canary slice (an index seek on the series' key), for the manual clock's "now". */
  latestCanarySlice: number | null;
  latest: {
    id: number;
    step: number;
    verdict: Verdict;
    reasons: Reason[];
    decided_at: number;
    next_check_at: number;
  } | null;
}

/** One page of deployments, active first then most recent, with each one's latest decision. */
export function listDeploymentCards(
  ledger: Ledger,
  opts: { limit: number; offset: number },
): { total: number; cards: DeploymentCard[] } {
  const db = sqlOf(ledger);
  const total = prepared(db, "SELECT COUNT(*) FROM deployments").pluck().get() as number;
  const rows = prepared(
    db,
    `SELECT d.*, x.id AS dec_id, x.step AS dec_step, x.verdict AS dec_verdict, x.reasons_json AS dec_reasons,
              x.decided_at AS dec_at, x.next_check_at AS dec_next,
              (SELECT MAX(t) FROM metric_series m WHERE m.deployment_id = d.id AND m.cohort = 'canary') AS canary_t
       FROM (SELECT * FROM deployments
             ORDER BY (state IN ('canary','paused')) DESC, last_event_at DESC, id LIMIT ? OFFSET ?) d
       LEFT JOIN decisions x ON x.id = (SELECT MAX(id) FROM decisions WHERE deployment_id = d.id)
       ORDER BY (d.state IN ('canary','paused')) DESC, d.last_event_at DESC, d.id`,
  ).all(opts.limit, opts.offset) as (DeploymentRow & {
    dec_id: number | null;
    dec_step: number;
    dec_verdict: Verdict;
    dec_reasons: string;
    dec_at: number;
    dec_next: number;
    canary_t: number | null;
  })[];
  return {
    total,
    cards: rows.map((r) => {
      const { dec_id, dec_step, dec_verdict, dec_reasons, dec_at, dec_next, canary_t, ...row } = r;
      return {
        deployment: toDeploymentRecord(row),
        latestCanarySlice: canary_t,
        latest:
          dec_id === null
            ? null
            : {
                id: dec_id,
                step: dec_step,
                verdict: dec_verdict,
                reasons: JSON.parse(dec_reasons) as Reason[],
                decided_at: dec_at,
                next_check_at: dec_next,
              },
      };
    }),
  };
}

import type { Report } from "../core/report.js";
import { prepared, sqlOf } from "./connection.js";
import type { Ledger } from "./open.js";

/** Counts and current values behind the controller's `/metrics`, read in one snapshot. */
export interface LedgerMetrics {
  deploymentsByState: { state: string; count: number }[];
  active: { id: string; service: string; state: string; step: number; percent: number }[];
  decisionsByVerdict: { verdict: string; count: number }[];
  decisionReasons: { code: string; count: number }[];
  rollbacks: number;
  overrides: number;
  /** Evidence of each guardrail row in each active deployment's latest decision. */
  evidence: {
    id: string;
    metric: string;
    statistic: string;
    evidence: number;
    threshold: number;
    margin_evidence: number;
  }[];
  outbox: { pending: number; failing: number; oldestPendingAt: number | null; deliveredTotal: number };
}

export function ledgerMetrics(ledger: Ledger): LedgerMetrics {
  const db = sqlOf(ledger);
  return ledger.read(() => {
    const active = prepared(
      db,
      "SELECT id, service, state, step, percent FROM deployments WHERE state IN ('canary','paused') ORDER BY id",
    ).all() as LedgerMetrics["active"];
    const evidence: LedgerMetrics["evidence"] = [];
    const latestReport = prepared(
      db,
      "SELECT report_json FROM decisions WHERE deployment_id = ? ORDER BY id DESC LIMIT 1",
    ).pluck();
    for (const d of active) {
      const json = latestReport.get(d.id) as string | undefined;
      if (!json) continue;
      for (const row of (JSON.parse(json) as Report).rows) {
        if (row.segment) continue;
        evidence.push({
          id: d.id,
          metric: row.metric,
          statistic: row.statistic,
          evidence: row.evidence,
          threshold: row.threshold,
          margin_evidence: row.margin_evidence,
        });
      }
    }
    const outbox = prepared(
      db,
      `SELECT SUM(delivered_at IS NULL) AS pending, SUM(delivered_at IS NULL AND last_error IS NOT NULL) AS failing,
                MIN(CASE WHEN delivered_at IS NULL THEN created_at END) AS oldest, SUM(delivered_at IS NOT NULL) AS delivered
         FROM outbox`,
    ).get() as {
      pending: number | null;
      failing: number | null;
      oldest: number | null;
      delivered: number | null;
    };
    return {
      deploymentsByState: prepared(
        db,
        "SELECT state, COUNT(*) AS count FROM deployments GROUP BY state ORDER BY state",
      ).all() as LedgerMetrics["deploymentsByState"],
      active,
      decisionsByVerdict: prepared(
        db,
        "SELECT verdict, COUNT(*) AS count FROM decisions GROUP BY verdict ORDER BY verdict",
      ).all() as LedgerMetrics["decisionsByVerdict"],
      decisionReasons: prepared(
        db,
        `SELECT json_extract(r.value, '$.code') AS code, COUNT(*) AS count
           FROM decisions, json_each(decisions.reasons_json) AS r GROUP BY code ORDER BY code`,
      ).all() as LedgerMetrics["decisionReasons"],
      rollbacks: prepared(db, "SELECT COUNT(*) FROM step_transitions WHERE kind = 'rollback'")
        .pluck()
        .get() as number,
      overrides: prepared(db, "SELECT COUNT(*) FROM step_transitions WHERE override = 1")
        .pluck()
        .get() as number,
      evidence,
      outbox: {
        pending: outbox.pending ?? 0,
        failing: outbox.failing ?? 0,
        oldestPendingAt: outbox.oldest,
        deliveredTotal: outbox.delivered ?? 0,
      },
    };
  });
}

import type { HoldAdvice, Reason, Verdict } from "../core/decision.js";
import type { Report } from "../core/report.js";
import { prepared, sqlOf } from "./connection.js";
import type { Ledger } from "./open.js";

export interface DecisionRecord {
  id: number;
  deployment_id: string;
  step: number;
  percent: number;
  verdict: Verdict;
  reasons: Reason[];
  report: Report;
  advice: HoldAdvice | null;
  policy_sha256: string;
  inputs_sha256: string;
  decided_at: number;
  next_check_at: number;
  actor: string;
}

interface DecisionRow extends Omit<DecisionRecord, "reasons" | "report" | "advice"> {
  reasons_json: string;
  report_json: string;
  advice_json: string | null;
}

function toRecord(row: DecisionRow): DecisionRecord {
  const { reasons_json, report_json, advice_json, ...rest } = row;
  return {
    ...rest,
    reasons: JSON.parse(reasons_json) as Reason[],
    report: JSON.parse(report_json) as Report,
    advice: advice_json ? (JSON.parse(advice_json) as HoldAdvice) : null,
  };
}

export function insertDecision(ledger: Ledger, d: Omit<DecisionRecord, "id">): number {
  const db = sqlOf(ledger);
  return Number(
    prepared(
      db,
      `INSERT INTO decisions (deployment_id, step, percent, verdict, reasons_json, report_json, advice_json, policy_sha256,
           inputs_sha256, decided_at, next_check_at, actor)
         VALUES (@deployment_id, @step, @percent, @verdict, @reasons_json, @report_json, @advice_json, @policy_sha256,
           @inputs_sha256, @decided_at, @next_check_at, @actor)`,
    ).run({
      ...d,
      reasons_json: JSON.stringify(d.reasons),
      report_json: JSON.stringify(d.report),
      advice_json: d.advice ? JSON.stringify(d.advice) : null,
    }).lastInsertRowid,
  );
}

export function latestDecision(ledger: Ledger, deploymentId: string): DecisionRecord | undefined {
  const db = sqlOf(ledger);
  const row = prepared(db, "SELECT * FROM decisions WHERE deployment_id = ? ORDER BY id DESC LIMIT 1").get(
    deploymentId,
  ) as DecisionRow | undefined;
  return row ? toRecord(row) : undefined;
}

/** A decision without its report and advice (cheap: what a look needs to know about the last one). */
export type DecisionHead = Omit<DecisionRecord, "report" | "advice">;

const HEAD_COLUMNS =
  "id, deployment_id, step, percent, verdict, reasons_json, policy_sha256, inputs_sha256, decided_at, next_check_at, actor";

export function latestDecisionHead(ledger: Ledger, deploymentId: string): DecisionHead | undefined {
  const row = prepared(
    sqlOf(ledger),
    `SELECT ${HEAD_COLUMNS} FROM decisions WHERE deployment_id = ? ORDER BY id DESC LIMIT 1`,
  ).get(deploymentId) as (Omit<DecisionHead, "reasons"> & { reasons_json: string }) | undefined;
  if (!row) return undefined;
  const { reasons_json, ...rest } = row;
  return { ...rest, reasons: JSON.parse(reasons_json) as Reason[] };
}

/** A deployment's decisions before `beforeId` without their reports, newest first (at most `limit`). */
export function recentDecisionHeads(
  ledger: Ledger,
  deploymentId: string,
  beforeId: number,
  limit: number,
): DecisionHead[] {
  const rows = prepared(
    sqlOf(ledger),
    `SELECT ${HEAD_COLUMNS} FROM decisions WHERE deployment_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
  ).all(deploymentId, beforeId, limit) as (Omit<DecisionHead, "reasons"> & { reasons_json: string })[];
  return rows.map(({ reasons_json, ...rest }) => ({
    ...rest,
    reasons: JSON.parse(reasons_json) as Reason[],
  }));
}

/** The verdicts of a deployment's decisions before `beforeId`, newest first (at most `limit`). */
export function recentVerdicts(
  ledger: Ledger,
  deploymentId: string,
  beforeId: number,
  limit: number,
): Pick<DecisionRecord, "id" | "step" | "verdict" | "decided_at">[] {
  return prepared(
    sqlOf(ledger),
    "SELECT id, step, verdict, decided_at FROM decisions WHERE deployment_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
  ).all(deploymentId, beforeId, limit) as Pick<DecisionRecord, "id" | "step" | "verdict" | "decided_at">[];
}

export function getDecision(ledger: Ledger, id: number): DecisionRecord | undefined {
  const db = sqlOf(ledger);
  const row = prepared(db, "SELECT * FROM decisions WHERE id = ?").get(id) as DecisionRow | undefined;
  return row ? toRecord(row) : undefined;
}

export function listDecisions(ledger: Ledger, deploymentId: string, limit = 100): DecisionRecord[] {
  const db = sqlOf(ledger);
  return (
    prepared(db, "SELECT * FROM decisions WHERE deployment_id = ? ORDER BY id DESC LIMIT ?").all(
      deploymentId,
      limit,
    ) as DecisionRow[]
  )
    .reverse()
    .map(toRecord);
}

import type { Verdict } from "../core/decision.js";
import { prepared, sqlOf } from "./connection.js";
import { type DeploymentRecord, findDeployment } from "./deployments.js";
import type { Ledger } from "./open.js";

/** The latest decision's timing, without its report (the controller reads this for every deployment). */
export interface DecisionTiming {
  step: number;
  verdict: Verdict;
  decided_at: number;
  next_check_at: number;
}

export interface ScheduledDeployment {
  deployment: DeploymentRecord;
  latest: DecisionTiming | undefined;
}

const SCHEDULE_COLUMNS = `SELECT d.id AS id, x.step AS step, x.verdict AS verdict, x.decided_at AS decided_at, x.next_check_at AS next_check_at
       FROM deployments d
       LEFT JOIN decisions x ON x.id = (SELECT MAX(id) FROM decisions WHERE deployment_id = d.id)
       WHERE d.state IN ('canary','paused')`;

/**
 * Every active (running or paused) deployment with its latest decision's timing, in id order
 * (or just `only`, while it is active): what the scheduler needs to know which looks are due.
 * One query for the decisions, however many deployments there are.
 */
export function activeSchedule(ledger: Ledger, only?: string): ScheduledDeployment[] {
  const rows = (
    only === undefined
      ? prepared(sqlOf(ledger), `${SCHEDULE_COLUMNS} ORDER BY d.id`).all()
      : prepared(sqlOf(ledger), `${SCHEDULE_COLUMNS} AND d.id = ?`).all(only)
  ) as ({ id: string } & { [K in keyof DecisionTiming]: DecisionTiming[K] | null })[];
  const out: ScheduledDeployment[] = [];
  for (const r of rows) {
    const deployment = findDeployment(ledger, r.id);
    if (!deployment) continue;
    out.push({
      deployment,
      latest:
        r.step === null || r.verdict === null || r.decided_at === null || r.next_check_at === null
          ? undefined
          : { step: r.step, verdict: r.verdict, decided_at: r.decided_at, next_check_at: r.next_check_at },
    });
  }
  return out;
}

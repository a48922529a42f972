import type { Database } from "better-sqlite3";
import type { DeploymentState, StepStart } from "../core/deployment.js";
import { InvalidInputError } from "../core/errors.js";
import { type Policy, policySchema } from "../core/policy/schema.js";

export interface DeploymentRecord {
  id: string;
  service: string;
  version: string | null;
  author: string | null;
  policy: Policy;
  policy_sha256: string;
  state: DeploymentState;
  step: number;
  percent: number;
  created_at: number;
  step_started_at: number;
  last_event_at: number;
  ended_at: number | null;
  started_by: string;
}

interface DeploymentRow extends Omit<DeploymentRecord, "policy"> {
  policy_json: string;
}

function toRecord(row: DeploymentRow): DeploymentRecord {
  const { policy_json, ...rest } = row;
  return { ...rest, policy: policySchema.parse(JSON.parse(policy_json)) };
}

export function findDeployment(db: Database, id: string): DeploymentRecord | undefined {
  const row = db.prepare("SELECT * FROM deployments WHERE id = ?").get(id) as DeploymentRow | undefined;
  return row ? toRecord(row) : undefined;
}

/** Unknown ids are the caller's input to fix (exit 2), not a refusal. */
export function getDeployment(db: Database, id: string): DeploymentRecord {
  const found = findDeployment(db, id);
  if (!found) {
    throw new InvalidInputError(
      "deployment_id",
      `no deployment with id ${JSON.stringify(id)} in this ledger; list them with deployment_status or \`canary status\``,
    );
  }
  return found;
}

export function listDeployments(
  db: Database,
  opts: { activeOnly?: boolean; limit?: number } = {},
): DeploymentRecord[] {
  const rows = (
    opts.activeOnly
      ? db.prepare(
          "SELECT * FROM deployments WHERE state IN ('canary','paused') ORDER BY created_at DESC, id LIMIT ?",
        )
      : db.prepare(
          "SELECT * FROM deployments ORDER BY (state IN ('canary','paused')) DESC, last_event_at DESC, id LIMIT ?",
        )
  ).all(opts.limit ?? 100) as DeploymentRow[];
  return rows.map(toRecord);
}

export function activeDeploymentOfService(db: Database, service: string): string | undefined {
  return db
    .prepare("SELECT id FROM deployments WHERE service = ? AND state IN ('canary','paused') LIMIT 1")
    .pluck()
    .get(service) as string | undefined;
}

export function insertDeployment(db: Database, d: DeploymentRecord): void {
  db.prepare(
    `INSERT INTO deployments (id, service, version, author, policy_json, policy_sha256, state, step, percent,
       created_at, step_started_at, last_event_at, ended_at, started_by)
     VALUES (@id, @service, @version, @author, @policy_json, @policy_sha256, @state, @step, @percent,
       @created_at, @step_started_at, @last_event_at, @ended_at, @started_by)`,
  ).run({ ...d, policy_json: JSON.stringify(d.policy) });
}

export interface TransitionInput {
  deploymentId: string;
  kind: "start" | "promote" | "rollback" | "complete" | "pause" | "resume";
  fromStep: number | null;
  toStep: number;
  percent: number;
  state: DeploymentState;
  actor: string;
  reason?: string;
  override?: boolean;
  decisionId?: number;
  at: number;
}

/**
 * Moves a deployment, compare-and-set on (state, step): returns false when another writer got
 * there first, so the caller can refuse or treat it as a safe repeat.
 */
export function applyTransition(
  db: Database,
  expected: { state: DeploymentState; step: number },
  t: TransitionInput,
): boolean {
  const stepChanges = t.kind === "promote" || t.kind === "complete" || t.kind === "start";
  const ended = t.state === "completed" || t.state === "rolled_back";
  const result = db
    .prepare(
      `UPDATE deployments SET state = @state, step = @toStep, percent = @percent, last_event_at = MAX(last_event_at, @at),
         step_started_at = CASE WHEN @stepChanges THEN @at ELSE step_started_at END,
         ended_at = CASE WHEN @ended THEN @at ELSE ended_at END
       WHERE id = @id AND state = @expectedState AND step = @expectedStep`,
    )
    .run({
      id: t.deploymentId,
      state: t.state,
      toStep: t.toStep,
      percent: t.percent,
      at: t.at,
      stepChanges: stepChanges ? 1 : 0,
      ended: ended ? 1 : 0,
      expectedState: expected.state,
      expectedStep: expected.step,
    });
  if (result.changes !== 1) return false;
  recordTransition(db, t);
  return true;
}

export function recordTransition(db: Database, t: TransitionInput): number {
  return Number(
    db
      .prepare(
        `INSERT INTO step_transitions (deployment_id, kind, from_step, to_step, percent, state, actor, reason, override, decision_id, at)
         VALUES (@deploymentId, @kind, @fromStep, @toStep, @percent, @state, @actor, @reason, @override, @decisionId, @at)`,
      )
      .run({ ...t, reason: t.reason ?? null, override: t.override ? 1 : 0, decisionId: t.decisionId ?? null })
      .lastInsertRowid,
  );
}

export interface TransitionRecord {
  id: number;
  kind: TransitionInput["kind"];
  from_step: number | null;
  to_step: number;
  percent: number;
  state: DeploymentState;
  actor: string;
  reason: string | null;
  override: number;
  decision_id: number | null;
  at: number;
}

export function listTransitions(db: Database, deploymentId: string): TransitionRecord[] {
  return db
    .prepare("SELECT * FROM step_transitions WHERE deployment_id = ? ORDER BY id")
    .all(deploymentId) as TransitionRecord[];
}

/** When each step began (the judge's view of the ladder). */
export function stepStarts(db: Database, deploymentId: string): StepStart[] {
  return listTransitions(db, deploymentId)
    .filter((t) => t.kind === "start" || t.kind === "promote" || t.kind === "complete")
    .map((t) => ({ step: t.to_step, percent: t.percent, startedAt: t.at }));
}

export function touchDeployment(db: Database, id: string, at: number): void {
  db.prepare("UPDATE deployments SET last_event_at = MAX(last_event_at, ?) WHERE id = ?").run(at, id);
}

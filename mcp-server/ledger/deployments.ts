import { canonicalHash, canonicalJson } from "../core/canonical-json.js";
import type { DeploymentState, StepStart } from "../core/deployment.js";
import { IntegrityError, NotFoundError } from "../core/errors.js";
import type { Policy } from "../core/policy/schema.js";
import { prepared, sqlOf } from "./connection.js";
import type { Ledger } from "./open.js";

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

export interface DeploymentRow extends Omit<DeploymentRecord, "policy"> {
  policy_json: string;
}

// A deployment's policy never changes: keep the checked policy per stored text (bounded; cleared
// when full), so a server answering many reads hashes each policy once.
const checkedPolicies = new Map<string, Policy>();
const CHECKED_POLICIES_MAX = 2_000;

/**
 * The stored policy, checked against the hash recorded beside it (and, through the start entry,
 * in the audit chain): an edited policy is an integrity failure, never a silently different rule.
 *
 * It is not validated again: start_deployment stores only a policy that passed the schema, with
 * its defaults filled in, as canonical JSON of that very object, and a matching hash shows the
 * text is still that object. Skipping the schema keeps zod off the path of read-only commands
 * (most of a `canary status` call's start-up); test/unit/ledger/stored-policy.test.ts shows the
 * read-back equals the schema's own parse for every shipped policy.
 */
function storedPolicy(row: DeploymentRow): Policy {
  const key = `${row.policy_sha256}:${row.policy_json}`;
  const checked = checkedPolicies.get(key);
  if (checked) return checked;
  let stored: unknown;
  try {
    stored = JSON.parse(row.policy_json);
  } catch {
    throw editedPolicy(row.id, "it no longer parses as a policy");
  }
  if (canonicalHash(stored) !== row.policy_sha256) throw editedPolicy(row.id, "its hash no longer matches");
  const policy = stored as Policy;
  if (checkedPolicies.size >= CHECKED_POLICIES_MAX) checkedPolicies.clear();
  checkedPolicies.set(key, policy);
  return policy;
}

function editedPolicy(id: string, why: string): IntegrityError {
  return new IntegrityError(
    `the stored policy of deployment ${id} was changed after it started (${why}); the ledger was edited outside canary. Restore it from a backup, and run \`canary audit --verify\` to see what else changed`,
  );
}

export function toDeploymentRecord(row: DeploymentRow): DeploymentRecord {
  const { policy_json: _, ...rest } = row;
  return { ...rest, policy: storedPolicy(row) };
}

/** Every deployment's id with the policy hash stored beside it (for verification against the audit chain). */
export function storedPolicyHashes(
  ledger: Ledger,
): { id: string; policy_sha256: string; policy_json: string }[] {
  return sqlOf(ledger)
    .prepare("SELECT id, policy_sha256, policy_json FROM deployments ORDER BY id")
    .all() as {
    id: string;
    policy_sha256: string;
    policy_json: string;
  }[];
}

export function findDeployment(ledger: Ledger, id: string): DeploymentRecord | undefined {
  const db = sqlOf(ledger);
  const row = prepared(db, "SELECT * FROM deployments WHERE id = ?").get(id) as DeploymentRow | undefined;
  return row ? toDeploymentRecord(row) : undefined;
}

/** Unknown ids are the caller's input to fix (exit 2), not a refusal. */
export function getDeployment(ledger: Ledger, id: string): DeploymentRecord {
  const found = findDeployment(ledger, id);
  if (!found) {
    throw new NotFoundError(
      "deployment_id",
      `no deployment with id ${JSON.stringify(id)} in this ledger; list them with deployment_status or \`canary status\``,
    );
  }
  return found;
}

export function listDeployments(
  ledger: Ledger,
  opts: { activeOnly?: boolean; limit?: number } = {},
): DeploymentRecord[] {
  const db = sqlOf(ledger);
  const rows = (
    opts.activeOnly
      ? prepared(
          db,
          "SELECT * FROM deployments WHERE state IN ('canary','paused') ORDER BY created_at DESC, id LIMIT ?",
        )
      : prepared(
          db,
          "SELECT * FROM deployments ORDER BY (state IN ('canary','paused')) DESC, last_event_at DESC, id LIMIT ?",
        )
  ).all(opts.limit ?? 100) as DeploymentRow[];
  return rows.map(toDeploymentRecord);
}

/** Every deployment still in canary or paused, by id: loops must cover all of them, never a page. */
export function activeDeploymentIds(ledger: Ledger): string[] {
  return sqlOf(ledger)
    .prepare("SELECT id FROM deployments WHERE state IN ('canary','paused') ORDER BY id")
    .pluck()
    .all() as string[];
}

export function activeDeploymentOfService(ledger: Ledger, service: string): string | undefined {
  const db = sqlOf(ledger);
  return prepared(db, "SELECT id FROM deployments WHERE service = ? AND state IN ('canary','paused') LIMIT 1")
    .pluck()
    .get(service) as string | undefined;
}

/** The service's most recent deployment by its last event (active or ended), if any. */
export function latestDeploymentOfService(ledger: Ledger, service: string): DeploymentRecord | undefined {
  const db = sqlOf(ledger);
  const row = prepared(
    db,
    "SELECT * FROM deployments WHERE service = ? ORDER BY last_event_at DESC, created_at DESC, id LIMIT 1",
  ).get(service) as DeploymentRow | undefined;
  return row ? toDeploymentRecord(row) : undefined;
}

export function insertDeployment(ledger: Ledger, d: DeploymentRecord): void {
  const db = sqlOf(ledger);
  prepared(
    db,
    `INSERT INTO deployments (id, service, version, author, policy_json, policy_sha256, state, step, percent,
       created_at, step_started_at, last_event_at, ended_at, started_by)
     VALUES (@id, @service, @version, @author, @policy_json, @policy_sha256, @state, @step, @percent,
       @created_at, @step_started_at, @last_event_at, @ended_at, @started_by)`,
  ).run({ ...d, policy_json: canonicalJson(d.policy) });
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
  ledger: Ledger,
  expected: { state: DeploymentState; step: number },
  t: TransitionInput,
): boolean {
  const db = sqlOf(ledger);
  const stepChanges = t.kind === "promote" || t.kind === "complete" || t.kind === "start";
  const ended = t.state === "completed" || t.state === "rolled_back";
  const result = prepared(
    db,
    `UPDATE deployments SET state = @state, step = @toStep, percent = @percent, last_event_at = MAX(last_event_at, @at),
         step_started_at = CASE WHEN @stepChanges THEN @at ELSE step_started_at END,
         ended_at = CASE WHEN @ended THEN @at ELSE ended_at END
       WHERE id = @id AND state = @expectedState AND step = @expectedStep`,
  ).run({
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
  recordTransition(ledger, t);
  return true;
}

export function recordTransition(ledger: Ledger, t: TransitionInput): number {
  const db = sqlOf(ledger);
  return Number(
    prepared(
      db,
      `INSERT INTO step_transitions (deployment_id, kind, from_step, to_step, percent, state, actor, reason, override, decision_id, at)
         VALUES (@deploymentId, @kind, @fromStep, @toStep, @percent, @state, @actor, @reason, @override, @decisionId, @at)`,
    ).run({ ...t, reason: t.reason ?? null, override: t.override ? 1 : 0, decisionId: t.decisionId ?? null })
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

export function listTransitions(ledger: Ledger, deploymentId: string): TransitionRecord[] {
  const db = sqlOf(ledger);
  return prepared(db, "SELECT * FROM step_transitions WHERE deployment_id = ? ORDER BY id").all(
    deploymentId,
  ) as TransitionRecord[];
}

/** When each step began (the judge's view of the ladder). */
export function stepStarts(ledger: Ledger, deploymentId: string): StepStart[] {
  return listTransitions(ledger, deploymentId)
    .filter((t) => t.kind === "start" || t.kind === "promote" || t.kind === "complete")
    .map((t) => ({ step: t.to_step, percent: t.percent, startedAt: t.at }));
}

export function touchDeployment(ledger: Ledger, id: string, at: number): void {
  const db = sqlOf(ledger);
  prepared(db, "UPDATE deployments SET last_event_at = MAX(last_event_at, ?) WHERE id = ?").run(at, id);
}

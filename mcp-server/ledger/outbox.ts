import type { Database } from "better-sqlite3";

// Notifications are queued in the same transaction as the change they announce, and delivered
// later by whoever runs the outbox: a failing receiver never blocks or changes a decision.

export interface OutboxMessage {
  id: number;
  deployment_id: string;
  event: string;
  target: string;
  payload: Record<string, unknown>;
  idempotency_key: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  delivered_at: number | null;
  last_error: string | null;
}

export function enqueue(
  db: Database,
  m: {
    deploymentId: string;
    event: string;
    target: string;
    payload: Record<string, unknown>;
    idempotencyKey: string;
    at: number;
  },
): void {
  db.prepare(
    `INSERT INTO outbox (deployment_id, event, target, payload_json, idempotency_key, created_at, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
  ).run(m.deploymentId, m.event, m.target, JSON.stringify(m.payload), m.idempotencyKey, m.at, m.at);
}

type OutboxRow = Omit<OutboxMessage, "payload"> & { payload_json: string };

function toMessage(row: OutboxRow): OutboxMessage {
  const { payload_json, ...rest } = row;
  return { ...rest, payload: JSON.parse(payload_json) as Record<string, unknown> };
}

export function dueMessages(db: Database, now: number, limit = 50): OutboxMessage[] {
  return (
    db
      .prepare("SELECT * FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?")
      .all(now, limit) as OutboxRow[]
  ).map(toMessage);
}

export function pendingMessages(db: Database, deploymentId?: string): OutboxMessage[] {
  const rows = (
    deploymentId
      ? db
          .prepare("SELECT * FROM outbox WHERE delivered_at IS NULL AND deployment_id = ? ORDER BY id")
          .all(deploymentId)
      : db.prepare("SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY id").all()
  ) as OutboxRow[];
  return rows.map(toMessage);
}

export function listOutbox(db: Database, deploymentId: string): OutboxMessage[] {
  return (
    db.prepare("SELECT * FROM outbox WHERE deployment_id = ? ORDER BY id").all(deploymentId) as OutboxRow[]
  ).map(toMessage);
}

export function markDelivered(db: Database, id: number, at: number): void {
  db.prepare(
    "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND delivered_at IS NULL",
  ).run(at, id);
}

export function markFailed(db: Database, id: number, error: string, retryAt: number): void {
  db.prepare(
    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND delivered_at IS NULL",
  ).run(error.slice(0, 500), retryAt, id);
}

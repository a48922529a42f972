import { prepared, sqlOf } from "./connection.js";
import type { Ledger } from "./open.js";

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
  ledger: Ledger,
  m: {
    deploymentId: string;
    event: string;
    target: string;
    payload: Record<string, unknown>;
    idempotencyKey: string;
    at: number;
  },
): void {
  const db = sqlOf(ledger);
  prepared(
    db,
    `INSERT INTO outbox (deployment_id, event, target, payload_json, idempotency_key, created_at, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
  ).run(m.deploymentId, m.event, m.target, JSON.stringify(m.payload), m.idempotencyKey, m.at, m.at);
}

type OutboxRow = Omit<OutboxMessage, "payload"> & { payload_json: string };

function toMessage(row: OutboxRow): OutboxMessage {
  const { payload_json, ...rest } = row;
  return { ...rest, payload: JSON.parse(payload_json) as Record<string, unknown> };
}

export function dueMessages(ledger: Ledger, now: number, limit = 50): OutboxMessage[] {
  const db = sqlOf(ledger);
  return (
    prepared(
      db,
      "SELECT * FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?",
    ).all(now, limit) as OutboxRow[]
  ).map(toMessage);
}

export function pendingMessages(ledger: Ledger, deploymentId?: string): OutboxMessage[] {
  const db = sqlOf(ledger);
  const rows = (
    deploymentId
      ? prepared(db, "SELECT * FROM outbox WHERE delivered_at IS NULL AND deployment_id = ? ORDER BY id").all(
          deploymentId,
        )
      : prepared(db, "SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY id").all()
  ) as OutboxRow[];
  return rows.map(toMessage);
}

export function listOutbox(ledger: Ledger, deploymentId: string): OutboxMessage[] {
  const db = sqlOf(ledger);
  return (
    prepared(db, "SELECT * FROM outbox WHERE deployment_id = ? ORDER BY id").all(deploymentId) as OutboxRow[]
  ).map(toMessage);
}

// Outcomes are written through ledger.write, so a held lock is a BusyError (retryable) and not a
// raw SQLite error; callers retry them with whenLedgerFree.

export function markDelivered(ledger: Ledger, id: number, at: number): void {
  ledger.write(() =>
    sqlOf(ledger)
      .prepare(
        "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND delivered_at IS NULL",
      )
      .run(at, id),
  );
}

export function markFailed(ledger: Ledger, id: number, error: string, retryAt: number): void {
  ledger.write(() =>
    sqlOf(ledger)
      .prepare(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND delivered_at IS NULL",
      )
      .run(error.slice(0, 500), retryAt, id),
  );
}

/**
 * Takes the due messages for delivery: each is leased (pushed past the lease) in one short
 * transaction, so two processes flushing one ledger do not both send it.
 */
export function leaseDue(ledger: Ledger, now: number, leaseMs: number, limit = 50): OutboxMessage[] {
  const db = sqlOf(ledger);
  return ledger.write(() => {
    const due = dueMessages(ledger, now, limit);
    const lease = prepared(db, "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND delivered_at IS NULL");
    for (const m of due) lease.run(now + leaseMs, m.id);
    return due;
  });
}

/** Hands a leased message back, to be sent at `at` (a flush that ran out of time). */
export function releaseLease(ledger: Ledger, id: number, at: number): void {
  ledger.write(() =>
    sqlOf(ledger)
      .prepare("UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND delivered_at IS NULL")
      .run(at, id),
  );
}

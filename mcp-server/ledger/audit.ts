import { createHmac } from "node:crypto";
import { canonicalHash, canonicalJson, sha256Hex } from "../core/canonical-json.js";
import { sqlOf } from "./connection.js";
import type { Ledger } from "./open.js";

// The audit log is append-only (triggers refuse UPDATE/DELETE) and hash-chained: every entry
// stores the previous entry's hash and the SHA-256 of its own canonical JSON (RFC 8785). An edited,
// reordered or deleted entry breaks the chain at a place verification names. A cut-off tail or a
// wholesale rewrite cannot be seen from inside, so the head hash travels in every notification
// and status output, and `verify` checks against a head recorded elsewhere.

export const GENESIS_HASH = "0".repeat(64);

export interface AuditInput {
  deploymentId: string | null;
  at: number;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  deployment_id: string | null;
  at: string;
  actor: string;
  action: string;
  details: Record<string, unknown>;
  prev_hash: string;
  entry_hash: string;
  hmac?: string;
}

interface AuditRow {
  seq: number;
  deployment_id: string | null;
  at: number;
  actor: string;
  action: string;
  details_json: string;
  prev_hash: string;
  entry_hash: string;
  hmac: string | null;
}

/** What the entry hash covers: everything but the hashes themselves. */
/** Stored details as written, or undefined when the bytes no longer parse (a damaged entry). */
function storedDetails(detailsJson: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(detailsJson) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function hashedBody(row: Omit<AuditRow, "entry_hash" | "hmac">): string {
  const details = storedDetails(row.details_json);
  // Unreadable details can never hash to the recorded hash: verify reports the entry as edited.
  if (details === undefined) return `unreadable:${row.details_json}`;
  return canonicalJson({
    seq: row.seq,
    deployment_id: row.deployment_id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    details,
    prev_hash: row.prev_hash,
  });
}

function hmacOf(key: string, entryHash: string): string {
  return createHmac("sha256", key).update(entryHash).digest("hex");
}

/** Appends one entry; call inside the transaction that makes the change it records. */
export function appendAudit(
  ledger: Ledger,
  input: AuditInput,
  hmacKey?: string,
): { seq: number; entry_hash: string } {
  const db = sqlOf(ledger);
  const head = db.prepare("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1").get() as
    | { seq: number; entry_hash: string }
    | undefined;
  const seq = (head?.seq ?? 0) + 1;
  const prev_hash = head?.entry_hash ?? GENESIS_HASH;
  const details_json = canonicalJson(input.details);
  const body = {
    seq,
    deployment_id: input.deploymentId,
    at: input.at,
    actor: input.actor,
    action: input.action,
    details_json,
    prev_hash,
  };
  const entry_hash = sha256Hex(hashedBody(body));
  db.prepare(
    `INSERT INTO audit_log (seq, deployment_id, at, actor, action, details_json, prev_hash, entry_hash, hmac)
     VALUES (@seq, @deployment_id, @at, @actor, @action, @details_json, @prev_hash, @entry_hash, @hmac)`,
  ).run({ ...body, entry_hash, hmac: hmacKey ? hmacOf(hmacKey, entry_hash) : null });
  return { seq, entry_hash };
}

export function auditHead(ledger: Ledger): string {
  const db = sqlOf(ledger);
  return (
    (db.prepare("SELECT entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1").pluck().get() as
      | string
      | undefined) ?? GENESIS_HASH
  );
}

function toEntry(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    seq: row.seq,
    deployment_id: row.deployment_id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    action: row.action,
    details: storedDetails(row.details_json) ?? {
      unreadable: "the stored details are damaged (not valid JSON); run canary audit --verify",
    },
    prev_hash: row.prev_hash,
    entry_hash: row.entry_hash,
  };
  if (row.hmac) entry.hmac = row.hmac;
  return entry;
}

/** Newest entries last; `limit` keeps the newest N. */
export function listAudit(
  ledger: Ledger,
  opts: { deploymentId?: string; limit?: number } = {},
): AuditEntry[] {
  const db = sqlOf(ledger);
  const limit = opts.limit ?? 1000;
  const rows = (
    opts.deploymentId
      ? db
          .prepare("SELECT * FROM audit_log WHERE deployment_id = ? ORDER BY seq DESC LIMIT ?")
          .all(opts.deploymentId, limit)
      : db.prepare("SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?").all(limit)
  ) as AuditRow[];
  return rows.reverse().map(toEntry);
}

export interface ChainProblem {
  seq: number;
  problem:
    | "edited"
    | "reordered_or_deleted"
    | "bad_signature"
    | "missing_signature"
    | "head_mismatch"
    | "database_corrupt"
    | "policy_edited";
  message: string;
}

export interface ChainVerification {
  ok: boolean;
  entries: number;
  head: string;
  problems: ChainProblem[];
}

/**
 * Walks the whole chain (it is global: per-deployment views are filters on it). `expectedHead`
 * is a head recorded outside the ledger; it must still be in the chain.
 */
export function verifyAudit(
  ledger: Ledger,
  opts: { expectedHead?: string; hmacKey?: string } = {},
): ChainVerification {
  const db = sqlOf(ledger);
  const problems: ChainProblem[] = [];
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let entries = 0;
  let headSeen = opts.expectedHead === undefined;
  for (const row of db
    .prepare("SELECT * FROM audit_log ORDER BY seq")
    .iterate() as IterableIterator<AuditRow>) {
    entries++;
    if (row.seq !== expectedSeq || row.prev_hash !== prev) {
      problems.push({
        seq: row.seq,
        problem: "reordered_or_deleted",
        message: `entry ${row.seq} does not follow entry ${expectedSeq - 1}: an entry before it was deleted, inserted or moved`,
      });
    }
    const recomputed = sha256Hex(hashedBody(row));
    if (recomputed !== row.entry_hash) {
      problems.push({
        seq: row.seq,
        problem: "edited",
        message: `entry ${row.seq} was edited after it was written (its hash does not match its content)`,
      });
    }
    if (opts.hmacKey) {
      if (!row.hmac)
        problems.push({
          seq: row.seq,
          problem: "missing_signature",
          message: `entry ${row.seq} carries no HMAC signature`,
        });
      else if (row.hmac !== hmacOf(opts.hmacKey, row.entry_hash)) {
        problems.push({
          seq: row.seq,
          problem: "bad_signature",
          message: `entry ${row.seq} has an HMAC signature that does not match the key`,
        });
      }
    }
    if (!headSeen && row.entry_hash === opts.expectedHead) headSeen = true;
    prev = row.entry_hash;
    expectedSeq = row.seq + 1;
  }
  if (!headSeen) {
    problems.push({
      seq: expectedSeq,
      problem: "head_mismatch",
      message: `the recorded head ${opts.expectedHead} is not in the chain: entries were cut off or the chain was rewritten`,
    });
  }
  return { ok: problems.length === 0, entries, head: prev, problems };
}

/**
 * Everything `audit --verify` checks: SQLite's own integrity check (a damaged page can leave the
 * chain readable), the hash chain, and each deployment's stored policy against its stored hash and
 * the hash its start entry recorded in the chain (an edited policy changes the rules silently).
 */
export function verifyLedger(
  ledger: Ledger,
  opts: { expectedHead?: string; hmacKey?: string } = {},
): ChainVerification {
  const db = sqlOf(ledger);
  const integrity = db.pragma("integrity_check(20)", { simple: false }) as { integrity_check: string }[];
  const damaged = integrity.map((r) => r.integrity_check).filter((m) => m !== "ok");
  if (damaged.length) {
    return {
      ok: false,
      entries: 0,
      head: auditHead(ledger),
      problems: damaged.map((m) => ({
        seq: 0,
        problem: "database_corrupt",
        message: `SQLite integrity check: ${m}`,
      })),
    };
  }
  const chain = verifyAudit(ledger, opts);
  const started = new Map<string, { seq: number; hash: unknown }>();
  for (const row of db
    .prepare("SELECT seq, deployment_id, details_json FROM audit_log WHERE action = 'start' ORDER BY seq")
    .iterate() as IterableIterator<{ seq: number; deployment_id: string; details_json: string }>) {
    if (!started.has(row.deployment_id)) {
      started.set(row.deployment_id, {
        seq: row.seq,
        hash: storedDetails(row.details_json)?.policy_sha256,
      });
    }
  }
  for (const d of db
    .prepare("SELECT id, policy_sha256, policy_json FROM deployments ORDER BY id")
    .iterate() as IterableIterator<{
    id: string;
    policy_sha256: string;
    policy_json: string;
  }>) {
    const start = started.get(d.id);
    let actual: string | undefined;
    try {
      actual = canonicalHash(JSON.parse(d.policy_json));
    } catch {
      actual = undefined;
    }
    if (!start || start.hash !== d.policy_sha256 || actual !== d.policy_sha256) {
      chain.problems.push({
        seq: start?.seq ?? 0,
        problem: "policy_edited",
        message: start
          ? `deployment ${d.id}: its stored policy does not match the policy hash its start entry (${start.seq}) recorded`
          : `deployment ${d.id} has no start entry in the audit chain`,
      });
    }
  }
  chain.ok = chain.problems.length === 0;
  return chain;
}

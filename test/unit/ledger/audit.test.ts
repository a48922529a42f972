import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { appendAudit, auditHead, listAudit, verifyAudit } from "../../../mcp-server/ledger/audit.js";
import { openLedger } from "../../../mcp-server/ledger/open.js";
import { tempDir } from "../../support/cli.js";

// The hash chain on a real ledger file; tampering goes through a second, raw SQLite connection,
// as someone editing the file would.

function ledgerWith(entries: number, hmacKey?: string) {
  const path = join(tempDir("canary-audit-"), "ledger.db");
  const ledger = openLedger(path, { clockMode: "manual" });
  const heads: string[] = [];
  for (let i = 0; i < entries; i++) {
    ledger.write(() =>
      appendAudit(
        ledger,
        { deploymentId: "d1", at: 1_000 * i, actor: "a", action: "note", details: { i } },
        hmacKey,
      ),
    );
    heads.push(auditHead(ledger));
  }
  return { path, ledger, heads };
}

function tamper(path: string, sql: string): void {
  const db = new Database(path);
  db.exec("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;");
  db.exec(sql);
  db.close();
}

describe("the audit chain", () => {
  it("links each entry to the previous one and verifies clean", () => {
    const { ledger, heads } = ledgerWith(3);
    const entries = listAudit(ledger);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[1]?.prev_hash).toBe(entries[0]?.entry_hash);
    expect(verifyAudit(ledger)).toMatchObject({ ok: true, entries: 3, head: heads[2], problems: [] });
  });

  it("finds an edited entry", () => {
    const { path, ledger } = ledgerWith(3);
    tamper(path, `UPDATE audit_log SET actor = 'someone else' WHERE seq = 2`);
    const v = verifyAudit(ledger);
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => [p.seq, p.problem])).toContainEqual([2, "edited"]);
  });

  it("finds an entry deleted from the middle", () => {
    const { path, ledger } = ledgerWith(3);
    tamper(path, "DELETE FROM audit_log WHERE seq = 2");
    expect(verifyAudit(ledger).problems.map((p) => p.problem)).toContain("reordered_or_deleted");
  });

  it("cannot see a cut at the end without a head recorded earlier; with it, it can", () => {
    const { path, ledger, heads } = ledgerWith(3);
    tamper(path, "DELETE FROM audit_log WHERE seq = 3");
    // What the README says: the shorter chain is still a valid chain...
    expect(verifyAudit(ledger).ok).toBe(true);
    // ...and the head kept outside the ledger is what reveals the cut.
    const withHead = verifyAudit(ledger, { expectedHead: heads[2]! });
    expect(withHead.ok).toBe(false);
    expect(withHead.problems.map((p) => p.problem)).toEqual(["head_mismatch"]);
    expect(verifyAudit(ledger, { expectedHead: heads[1]! }).ok).toBe(true);
  });

  it("with an HMAC key, an entry re-hashed without the key is caught", () => {
    const { path, ledger } = ledgerWith(2, "k".repeat(32));
    expect(verifyAudit(ledger, { hmacKey: "k".repeat(32) }).ok).toBe(true);
    tamper(path, "UPDATE audit_log SET hmac = NULL WHERE seq = 2");
    expect(verifyAudit(ledger, { hmacKey: "k".repeat(32) }).problems.map((p) => p.problem)).toEqual([
      "missing_signature",
    ]);
    expect(verifyAudit(ledger, { hmacKey: "x".repeat(32) }).problems.map((p) => p.problem)).toContain(
      "bad_signature",
    );
  });
});

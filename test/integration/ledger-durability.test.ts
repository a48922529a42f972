import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { verifyAudit } from "../../mcp-server/ledger/audit.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { REPO, runCli, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";

function writePolicy(policy: Record<string, unknown>): string {
  const file = join(tempDir(), "policy.json");
  writeFileSync(file, JSON.stringify(policy));
  return file;
}

const WRITER = join(REPO, "test/support/ledger-writer.mjs");

function startWriter(ledger: string, prefix: string) {
  const child = spawn(process.execPath, [WRITER, ledger, prefix], { stdio: ["ignore", "pipe", "inherit"] });
  const ready = new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return { child, ready, exited };
}

describe("the ledger survives processes killed in the middle of writes", () => {
  it("opens, passes integrity_check and verifies its audit chain after SIGKILLs", async () => {
    const ledger = join(tempDir(), "ledger.db");
    for (let round = 0; round < 3; round++) {
      // Two writers at once, killed at a random-ish point while both are writing.
      const writers = [startWriter(ledger, `a${round}`), startWriter(ledger, `b${round}`)];
      await Promise.all(writers.map((w) => w.ready));
      await new Promise((r) => setTimeout(r, 150 + round * 100));
      for (const w of writers) w.child.kill("SIGKILL");
      await Promise.all(writers.map((w) => w.exited));
    }
    const db = new Database(ledger, { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const deployments = db.prepare("SELECT COUNT(*) FROM deployments").pluck().get() as number;
    const starts = db
      .prepare("SELECT COUNT(*) FROM audit_log WHERE action = 'start'")
      .pluck()
      .get() as number;
    const transitions = db.prepare("SELECT COUNT(*) FROM step_transitions").pluck().get() as number;
    db.close();
    expect(deployments).toBeGreaterThan(0);
    // Each start is one transaction: a deployment never exists without its audit entry and transition.
    expect(starts).toBe(deployments);
    expect(transitions).toBe(deployments);
    const l = openLedger(ledger);
    expect(verifyAudit(l).ok).toBe(true);
    l.close();
    const cli = runCli(["audit", "--verify", "--ledger", ledger, "--limit", "1"]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/chain ok/);
  });
});

describe("the audit chain detects tampering", () => {
  function ledgerWithHistory(): { path: string; head: string } {
    const path = join(tempDir(), "ledger.db");
    for (const id of ["d1", "d2", "d3", "d4"]) {
      const policy = { ...basicPolicy(), service: `svc-${id}` };
      const r = runCli(["start", id, "--policy", writePolicy(policy), "--ledger", path, "--json"]);
      expect(r.code, r.stderr).toBe(0);
    }
    const audit = runCli(["audit", "--verify", "--json", "--ledger", path]);
    return { path, head: (JSON.parse(audit.stdout) as { head: string }).head };
  }

  /** Someone with the file can drop the append-only triggers; the chain still tells. */
  function tamper(path: string, sql: string): void {
    const db = new Database(path);
    db.exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
    db.exec(sql);
    db.close();
  }

  it("refuses edits through SQL while the triggers stand", () => {
    const { path } = ledgerWithHistory();
    const db = new Database(path);
    expect(() => db.exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")).toThrow(/append-only/);
    expect(() => db.exec("DELETE FROM audit_log WHERE seq = 2")).toThrow(/append-only/);
    db.close();
  });

  it.each([
    ["an edited entry", "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", /entry 2 was edited/],
    [
      "an edited detail",
      "UPDATE audit_log SET details_json = replace(details_json, 'svc-d3', 'svc-x') WHERE seq = 3",
      /entry 3 was edited/,
    ],
    ["a deleted entry", "DELETE FROM audit_log WHERE seq = 2", /entry 3 does not follow entry 1/],
    [
      "reordered entries",
      "UPDATE audit_log SET seq = -seq WHERE seq IN (2,3); UPDATE audit_log SET seq = 5 - seq WHERE seq < 0",
      /does not follow/,
    ],
  ])("names %s (exit 4)", (_what, sql, message) => {
    const { path } = ledgerWithHistory();
    tamper(path, sql);
    const r = runCli(["audit", "--verify", "--ledger", path]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/CHAIN BROKEN/);
    expect(r.stdout).toMatch(message);
  });

  it("detects a cut-off tail only against a head recorded elsewhere", () => {
    const { path, head } = ledgerWithHistory();
    // A careful cut removes the last deployment with its entry, so nothing inside disagrees.
    tamper(
      path,
      "DELETE FROM audit_log WHERE seq = 4; DELETE FROM step_transitions WHERE deployment_id = 'd4'; DELETE FROM deployments WHERE id = 'd4'",
    );
    expect(runCli(["audit", "--verify", "--ledger", path]).code).toBe(0);
    const r = runCli(["audit", "--verify", "--head", head, "--ledger", path]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/cut off or the chain was rewritten/);
  });

  it("detects a cut entry whose deployment is still there, without a recorded head", () => {
    const { path } = ledgerWithHistory();
    tamper(path, "DELETE FROM audit_log WHERE seq = 4");
    const r = runCli(["audit", "--verify", "--ledger", path]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/deployment d4 has no start entry/);
  });

  it("signs entries with an HMAC key and detects a rewritten chain", () => {
    const path = join(tempDir(), "ledger.db");
    const env = { CANARY_AUDIT_HMAC_KEY: "s3cret" };
    expect(
      runCli(["start", "d1", "--policy", join(REPO, "test/support/policy.yaml"), "--ledger", path], { env })
        .code,
    ).toBe(0);
    expect(runCli(["audit", "--verify", "--ledger", path], { env }).code).toBe(0);
    expect(
      runCli(["audit", "--verify", "--ledger", path], { env: { CANARY_AUDIT_HMAC_KEY: "other" } }).stdout,
    ).toMatch(/HMAC signature/);
  });
});

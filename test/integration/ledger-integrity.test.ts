import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { Slice } from "../../mcp-server/core/slice.js";
import { decide } from "../../mcp-server/operations/decide.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { CLI, REPO, tempDir } from "../support/cli.js";
import { manualContext } from "../support/context.js";
import { canaryInProcess } from "../support/in-process-cli.js";
import { basicPolicy } from "../support/policies.js";
import { Random } from "../support/random.js";
import { healthySliceLines } from "../support/slices.js";

const T0 = Date.UTC(2026, 4, 26, 10);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** A closed ledger (WAL checkpointed into the file) with deployments, slices, decisions and audit entries. */
async function ledgerWithHistory(): Promise<string> {
  const dir = tempDir();
  const path = join(dir, "ledger.db");
  const ctx = await manualContext(path);
  for (const id of ["d1", "d2", "d3"]) {
    startDeployment(ctx, { deployment_id: id, policy: basicPolicy({ service: `svc-${id}` }), at: iso(0) });
    const slices = healthySliceLines({ startMs: T0, minutes: 60, seed: id.length }).map(
      (l) => JSON.parse(l) as Slice,
    );
    recordMetrics(ctx, { deployment_id: id, slices, at: iso(60) });
    decide(ctx, { deployment_id: id, at: iso(60) });
  }
  ctx.ledger.close();
  return path;
}

function integrityCheckPasses(path: string): boolean {
  try {
    const db = new Database(path, { readonly: true });
    try {
      return db.pragma("integrity_check", { simple: true }) === "ok";
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}

describe("ledger integrity", () => {
  it("fails audit --verify with exit 4 on every bit-flipped copy that SQLite's integrity check rejects, never exit 1", async () => {
    const original = await ledgerWithHistory();
    const bytes = readFileSync(original);
    const rnd = new Random(2026);
    let rejected = 0;
    for (let copy = 0; copy < 40; copy++) {
      const damaged = Buffer.from(bytes);
      // Flip bits in pages past the first (the header page is checked on open already).
      for (let k = 0; k < 8; k++) {
        const at = 4096 + Math.floor(rnd.uniform() * (damaged.length - 4096));
        damaged[at] = damaged[at]! ^ (1 << Math.floor(rnd.uniform() * 8));
      }
      const path = join(tempDir(), "flipped.db");
      writeFileSync(path, damaged);
      const verify = await canaryInProcess(["audit", "--verify", "--ledger", path, "--json"]);
      expect(verify.code, `copy ${copy}: ${verify.stderr}`).not.toBe(1);
      if (!integrityCheckPasses(path)) {
        rejected++;
        expect(verify.code, `copy ${copy}: ${verify.stdout}${verify.stderr}`).toBe(4);
      }
    }
    // The flips did damage most copies (else the test proves little).
    expect(rejected).toBeGreaterThan(20);
  });

  it("detects a stored policy edited in place (approvers swapped): verify exits 4 and status refuses to show it", async () => {
    const path = await ledgerWithHistory();
    const db = new Database(path);
    const row = db.prepare("SELECT policy_json FROM deployments WHERE id = 'd2'").pluck().get() as string;
    const edited = row.replace("release-lead@example.com", "mallory@example.com");
    expect(edited).not.toBe(row);
    db.prepare("UPDATE deployments SET policy_json = ? WHERE id = 'd2'").run(edited);
    db.close();
    const verify = await canaryInProcess(["audit", "--verify", "--ledger", path, "--json"]);
    expect(verify.code).toBe(4);
    expect(verify.stdout).toMatch(/policy_edited/);
    const status = await canaryInProcess(["status", "d2", "--ledger", path]);
    expect(status.code).toBe(4);
    expect(status.stderr).toMatch(/stored policy of deployment d2 was changed/);
  });

  it("serves status and audit --verify from a ledger it may only read, and never creates a mistyped one", async () => {
    const path = await ledgerWithHistory();
    const dir = join(path, "..");
    // The reader is another user (root ignores permissions): file and directory are read-only to it.
    chmodSync(path, 0o444);
    chmodSync(dir, 0o555);
    const asReader = (args: string[]) => {
      const argv = [CLI, ...args, "--ledger", path];
      const r =
        process.getuid?.() === 0
          ? spawnSync(
              "setpriv",
              ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, ...argv],
              {
                cwd: REPO,
                encoding: "utf8",
                env: { ...process.env, NO_COLOR: "1" },
              },
            )
          : spawnSync(process.execPath, argv, {
              cwd: REPO,
              encoding: "utf8",
              env: { ...process.env, NO_COLOR: "1" },
            });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const status = asReader(["status", "d1", "--json"]);
    expect(status.code, status.stderr).toBe(10);
    expect(JSON.parse(status.stdout)).toMatchObject({ deployment_id: "d1", state: "canary" });
    const verify = asReader(["audit", "--verify"]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/chain ok/);
    // A write is refused cleanly, not an internal error.
    const pause = asReader(["pause", "d1", "--reason", "auditor pressing buttons"]);
    expect(pause.code, pause.stderr).toBe(3);
    chmodSync(dir, 0o755);
    const typo = join(dir, "typo.db");
    const missing = await canaryInProcess(["status", "--ledger", typo]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/there is no ledger at/);
    expect(existsSync(typo)).toBe(false);
  });
});

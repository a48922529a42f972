import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { loadSlices } from "../../mcp-server/ledger/slices.js";
import { CLI, REPO, runCliAsync, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { healthySliceLines } from "../support/slices.js";

function setup(): { ledger: string; policy: string; dir: string } {
  const dir = tempDir();
  const policy = join(dir, "policy.json");
  writeFileSync(policy, JSON.stringify(basicPolicy()));
  return { ledger: join(dir, "ledger.db"), policy, dir };
}

/** `canary ingest -` whose stdin the test feeds and keeps open as long as it likes. */
function openIngest(ledger: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CLI, "ingest", "-", "--ledger", ledger, "--json"], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const progress = new Promise<void>((resolve) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (/ingest: \d+ slices/.test(stderr)) resolve();
    });
  });
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
  return { child, progress, done };
}

describe("a bulk ingest never holds the ledger's write lock while it reads", () => {
  it("pause, status and rollback get through within a second while an ingest stream is open, and the ingest still lands whole", async () => {
    const { ledger, policy } = setup();
    const start = await runCliAsync(["start", "d1", "--policy", policy, "--ledger", ledger]);
    expect(start.code, start.stderr).toBe(0);
    const lines = healthySliceLines({ deploymentId: "d1", startMs: Date.UTC(2026, 0, 1), minutes: 3000 });
    const ingest = openIngest(ledger);
    // Past the first progress report, the ingest is mid-stream: it has read 5 000 slices and
    // waits for more (stdin stays open).
    ingest.child.stdin.write(`${lines.join("\n")}\n`);
    await ingest.progress;
    // One second to get the lock, whatever the ingest is doing.
    const env = { CANARY_BUSY_TIMEOUT_MS: "1000" };
    const pause = await runCliAsync(["pause", "d1", "--reason", "pager fired", "--ledger", ledger], { env });
    expect(pause.code, pause.stderr).toBe(0);
    const status = await runCliAsync(["status", "d1", "--ledger", ledger, "--json"], { env });
    expect(status.stderr).not.toMatch(/locked|busy/);
    const rollback = await runCliAsync(
      ["rollback", "d1", "--reason", "pager", "--ledger", ledger, "--json"],
      {
        env,
      },
    );
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(JSON.parse(rollback.stdout)).toMatchObject({ state: "rolled_back", moved: true });
    ingest.child.stdin.end();
    const result = await ingest.done;
    // The slices are from before the rollback: the whole stream is stored, in one piece.
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ slices: 6000 });
    const l = openLedger(ledger, { access: "read" });
    expect(loadSlices(l, "d1")).toHaveLength(6000);
    l.close();
  });

  it("a stream still open when the deployment is rolled back keeps nothing if it holds slices from after the rollback", async () => {
    const { ledger, policy } = setup();
    // The manual clock lets the stream hold slices from after the rollback.
    const env = { CANARY_CLOCK: "manual", CANARY_BUSY_TIMEOUT_MS: "1000" };
    const t0 = Date.UTC(2026, 0, 1);
    const started = await runCliAsync(
      ["start", "d1", "--policy", policy, "--ledger", ledger, "--at", new Date(t0).toISOString()],
      { env },
    );
    expect(started.code, started.stderr).toBe(0);
    const ingest = openIngest(ledger, env);
    const lines = healthySliceLines({ deploymentId: "d1", startMs: t0, minutes: 2600 });
    ingest.child.stdin.write(`${lines.slice(0, 5000).join("\n")}\n`);
    await ingest.progress;
    // Rolled back at minute 2500 while the stream is open; the stream goes on to minute 2600.
    const at = new Date(t0 + 2500 * 60_000).toISOString();
    const rollback = await runCliAsync(
      ["rollback", "d1", "--reason", "pager", "--ledger", ledger, "--at", at],
      { env },
    );
    expect(rollback.code, rollback.stderr).toBe(0);
    ingest.child.stdin.end(`${lines.slice(5000).join("\n")}\n`);
    const result = await ingest.done;
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/d1 ended \(rolled_back\).*nothing was stored/);
    const l = openLedger(ledger, { access: "read", clockMode: "manual" });
    expect(loadSlices(l, "d1")).toHaveLength(0);
    l.close();
  });
});

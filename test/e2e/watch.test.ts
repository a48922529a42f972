import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { realClock } from "../../mcp-server/operations/context.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { CLI, REPO, runCli, runCliAsync, tempDir } from "../support/cli.js";
import { Random } from "../support/random.js";

/**
 * `canary watch` on the real clock, with a live service feeding one-second slices into the same
 * ledger file from this process (another connection, as a metrics pusher would be).
 */
/** Starts a deployment on a fresh ledger with the CLI, as a pipeline would; returns the ledger's path. */
function startDeployment(id: string, policy: Record<string, unknown>): string {
  const dir = tempDir();
  const ledger = join(dir, "ledger.db");
  const file = join(dir, "policy.json");
  writeFileSync(file, JSON.stringify(policy));
  expect(runCli(["start", id, "--policy", file, "--ledger", ledger]).code).toBe(0);
  return ledger;
}

describe("canary watch drives a deployment to its end on the real clock", () => {
  it("rolls back a failing canary and exits 20, printing progress lines", async () => {
    const ledger = startDeployment("live-1", {
      service: "live",
      slice: "1s",
      check_every: "1s",
      ladder: [{ percent: 10, window: "30s" }, { percent: 100 }],
      metrics: [
        {
          name: "error_rate",
          type: "ratio",
          events: "http_errors",
          trials: "http_requests",
          bad: "increase",
          tolerance: { relative: 0 },
          margin: { relative: 1 },
        },
      ],
    });
    const watch = spawn(
      process.execPath,
      [CLI, "watch", "live-1", "--poll-seconds", "0.5", "--ledger", ledger],
      { cwd: REPO, env: { ...process.env, NO_COLOR: "1" } },
    );
    let stdout = "";
    watch.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    const exited = new Promise<number>((resolve) => watch.on("close", (code) => resolve(code ?? -1)));

    const l = openLedger(ledger);
    const ctx = {
      ledger: l,
      clock: realClock,
      actor: "pusher",
      assigner: await createAssigner(),
      readPolicyFile: () => "",
    };
    const random = new Random(5);
    let pushed = Math.floor(Date.now() / 1000) * 1000;
    let code: number | undefined;
    void exited.then((c) => {
      code = c;
    });
    const deadline = Date.now() + 40_000;
    while (code === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      const slices = [];
      for (; pushed + 1000 <= Date.now(); pushed += 1000) {
        const t = new Date(pushed).toISOString();
        const canary = random.poisson(300);
        const control = random.poisson(2700);
        slices.push(
          {
            t,
            cohort: "canary" as const,
            counters: { http_requests: canary, http_errors: random.poisson(canary * 0.1) },
          },
          {
            t,
            cohort: "control" as const,
            counters: { http_requests: control, http_errors: random.poisson(control * 0.01) },
          },
        );
      }
      if (slices.length) {
        try {
          recordMetrics(ctx, { deployment_id: "live-1", slices });
        } catch (error) {
          // After the rollback, later slices are refused: that is the product working.
          if (!String(error).includes("deployment_ended")) throw error;
        }
      }
    }
    l.close();
    if (code === undefined) watch.kill();
    expect(await exited).toBe(20);
    expect(stdout).toMatch(/rolled_back/);
    expect(stdout).toMatch(/rolled back/);
    const status = JSON.parse(runCli(["status", "live-1", "--json", "--ledger", ledger]).stdout) as {
      state: string;
      percent: number;
    };
    expect(status).toMatchObject({ state: "rolled_back", percent: 0 });
  }, 60_000);

  it("ends when someone else rolls the deployment back between its looks, and exits 2 for an unknown one", async () => {
    // Looks are ten minutes apart: the watch must notice the brake long before the next one (the
    // test gives it a minute).
    const ledger = startDeployment("slow-1", {
      service: "slow",
      check_every: "10m",
      ladder: [{ percent: 5, window: "30m" }, { percent: 100 }],
      metrics: [
        {
          name: "error_rate",
          type: "ratio",
          events: "e",
          trials: "n",
          bad: "increase",
          tolerance: { relative: 0.1 },
        },
      ],
    });
    const watching = runCliAsync(["watch", "slow-1", "--poll-seconds", "0.5", "--ledger", ledger]);
    await new Promise((r) => setTimeout(r, 1500));
    const brake = runCli(["rollback", "slow-1", "--reason", "pager: checkout errors", "--ledger", ledger]);
    expect(brake.code, brake.stderr).toBe(0);
    const watched = await watching;
    expect(watched.code, watched.stderr).toBe(20);
    expect(watched.stdout).toMatch(/rolled back/);

    const unknown = await runCliAsync(["watch", "nobody-1", "--ledger", ledger]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/nobody-1/);
  }, 60_000);
});

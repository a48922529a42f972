import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createAssigner } from "../../../mcp-server/cohort-assigner.js";
import type { SchedulerClock } from "../../../mcp-server/controller/clock.js";
import { createController } from "../../../mcp-server/controller/controller.js";
import { listDecisions } from "../../../mcp-server/ledger/decisions.js";
import { getDeployment, listTransitions } from "../../../mcp-server/ledger/deployments.js";
import { openLedger } from "../../../mcp-server/ledger/open.js";
import { compareMetricsReport } from "../../../mcp-server/operations/compare-metrics.js";
import { manualClock, type OperationContext } from "../../../mcp-server/operations/context.js";
import { JudgeStates } from "../../../mcp-server/operations/judge-states.js";
import { recordMetrics } from "../../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../../mcp-server/operations/start-deployment.js";
import { tempDir } from "../../support/cli.js";
import { basicPolicy } from "../../support/policies.js";
import { trafficSlices } from "../../support/service-traffic.js";

const T0 = Date.parse("2026-05-26T10:00:00Z");
const MIN = 60_000;

async function contextOn(path: string, judgeStates?: JudgeStates): Promise<OperationContext> {
  return {
    ledger: openLedger(path, { clockMode: "manual" }),
    clock: manualClock,
    actor: "controller@test",
    assigner: await createAssigner(),
    readPolicyFile: () => {
      throw new Error("no files in this test");
    },
    ...(judgeStates ? { judgeStates } : {}),
  };
}

const policy = basicPolicy({
  check_every: "1m",
  ladder: [{ percent: 10, window: "15m" }, { percent: 50, window: "15m" }, { percent: 100 }],
  metrics: [
    {
      name: "checkout_error_rate",
      type: "ratio",
      events: "http_errors",
      trials: "http_requests",
      bad: "increase",
      tolerance: { relative: 0 },
      margin: { relative: 0.5 },
    },
    {
      name: "latency",
      type: "histogram",
      series: "http_latency_ms",
      percentiles: [50, 90],
      bad: "increase",
      tolerance: { relative: 0.2 },
      margin: { relative: 0.5 },
    },
  ],
});

/** Everything a decision recorded, but its row id. */
function decisionsOf(ctx: OperationContext, id: string) {
  return listDecisions(ctx.ledger, id, 1000).map(({ id: _id, ...rest }) => rest);
}

describe("judges kept between looks", () => {
  it("give the decisions a judge built from every stored slice gives, through promotions, a rollback, a slice re-sent behind the look and a restart", async () => {
    const kept = new JudgeStates();
    const keeping = await contextOn(join(tempDir(), "kept.db"), kept);
    const refolding = await contextOn(join(tempDir(), "fresh.db"));
    const deployments = {
      // Healthy: promoted to 50% and then completed by the controller.
      "pay-ok": () => ({ errorRate: 0.01, latencyMedian: 50 }),
      // From minute 18, three times the errors on the canary: rolled back.
      "pay-bad": (t: number, cohort: "canary" | "control") => ({
        errorRate: cohort === "canary" && t >= T0 + 18 * MIN ? 0.03 : 0.01,
        latencyMedian: 50,
      }),
    } as const;
    for (const ctx of [keeping, refolding])
      for (const id of Object.keys(deployments))
        startDeployment(ctx, {
          deployment_id: id,
          policy: { ...policy, service: id },
          at: new Date(T0).toISOString(),
        });

    let now = T0;
    const clock: SchedulerClock = { now: () => now, sleep: async () => undefined };
    const controllers = [keeping, refolding].map((ctx) =>
      createController({ ctx, clock, holder: "only", leaseMs: 3_600_000 }),
    );
    for (let minute = 1; minute <= 40; minute++) {
      now = T0 + minute * MIN;
      for (const ctx of [keeping, refolding]) {
        for (const [id, behaviour] of Object.entries(deployments)) {
          const d = getDeployment(ctx.ledger, id);
          if (d.state !== "canary") continue;
          const slices = trafficSlices({
            from: now - MIN,
            to: now,
            rps: 1000,
            percentAt: () => d.percent,
            behaviour,
            seed: minute * 7 + id.length,
          });
          // At minute 12 a pod re-sends minute 3 with more errors: behind what the kept judge folded.
          if (minute === 12) {
            slices.push(
              ...trafficSlices({
                from: T0 + 2 * MIN,
                to: T0 + 3 * MIN,
                rps: 100,
                percentAt: () => 10,
                behaviour: () => ({ errorRate: 0.02, latencyMedian: 60 }),
                seed: 99,
              }),
            );
          }
          recordMetrics(ctx, { deployment_id: id, slices, at: new Date(now).toISOString() });
        }
      }
      // At minute 25 the keeping process restarts: every judge is built again from the ledger.
      if (minute === 25) for (const id of Object.keys(deployments)) kept.forget(id);
      for (const c of controllers) await c.runOnce();
    }

    for (const id of Object.keys(deployments)) {
      const a = decisionsOf(keeping, id);
      const b = decisionsOf(refolding, id);
      expect(a.length).toBeGreaterThan(10);
      expect(a).toEqual(b);
      expect(listTransitions(keeping.ledger, id).map((t) => [t.kind, t.to_step, t.percent, t.at])).toEqual(
        listTransitions(refolding.ledger, id).map((t) => [t.kind, t.to_step, t.percent, t.at]),
      );
    }
    expect(getDeployment(keeping.ledger, "pay-ok").state).toBe("completed");
    expect(getDeployment(keeping.ledger, "pay-bad").state).toBe("rolled_back");
    // The kept judges were used (most looks), and built again only when they had to be: the first
    // looks (2), the re-sent slice (2) and the restart (1: pay-bad had ended by then).
    const stats = kept.stats();
    expect(stats.reused).toBeGreaterThan(40);
    expect(stats.rebuilt).toBe(5);
  });

  it("are built again when the ledger file behind them was replaced by an older copy (a restored backup)", async () => {
    const dir = tempDir();
    const kept = new JudgeStates();
    const live = await contextOn(join(dir, "live.db"), kept);
    startDeployment(live, { deployment_id: "pay-1", policy, at: new Date(T0).toISOString() });
    const record = (ctx: OperationContext, from: number, to: number) =>
      recordMetrics(ctx, {
        deployment_id: "pay-1",
        slices: trafficSlices({
          from: T0 + from * MIN,
          to: T0 + to * MIN,
          rps: 1000,
          percentAt: () => 10,
          behaviour: () => ({ errorRate: 0.01, latencyMedian: 50 }),
          seed: from,
        }),
        at: new Date(T0 + to * MIN).toISOString(),
      });
    record(live, 0, 5);
    // The backup: the file as it was at minute 5 (closing checkpoints the WAL into it).
    live.ledger.close();
    copyFileSync(join(dir, "live.db"), join(dir, "backup.db"));
    const again = await contextOn(join(dir, "live.db"), kept);
    record(again, 5, 10);
    const at = T0 + 10 * MIN;
    const ofLive = compareMetricsReport(again, { deployment_id: "pay-1", at: new Date(at).toISOString() });
    // The same process now reads the restored backup: its report is the backup's, not the kept one.
    const restored = await contextOn(join(dir, "backup.db"), kept);
    const fresh = await contextOn(join(dir, "backup.db"));
    const ofRestored = compareMetricsReport(restored, {
      deployment_id: "pay-1",
      at: new Date(at).toISOString(),
    });
    expect(ofRestored).toEqual(
      compareMetricsReport(fresh, { deployment_id: "pay-1", at: new Date(at).toISOString() }),
    );
    expect(ofRestored.inputs_sha256).not.toBe(ofLive.inputs_sha256);
  });
});

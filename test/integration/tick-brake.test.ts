import { describe, expect, it } from "vitest";
import { runTick } from "../../mcp-server/controller/tick-pass.js";
import type { Slice } from "../../mcp-server/core/slice.js";
import { getDeployment } from "../../mcp-server/ledger/deployments.js";
import { pauseDeployment } from "../../mcp-server/operations/pause-resume.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { tickDeployment } from "../../mcp-server/operations/tick.js";
import { manualContext } from "../support/context.js";
import { basicPolicy } from "../support/policies.js";
import { healthySliceLines } from "../support/slices.js";

const T0 = Date.UTC(2026, 4, 26, 10);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

describe("tick covers every active deployment and the brake works while paused", () => {
  it("gives all 1 000 active deployments a look in one pass", async () => {
    const ctx = await manualContext();
    for (let i = 0; i < 1000; i++) {
      startDeployment(ctx, {
        deployment_id: `d-${String(i).padStart(4, "0")}`,
        policy: basicPolicy({ service: `svc-${i}`, check_every: "5m" }),
        at: iso(0),
      });
    }
    const { actions } = await runTick(ctx, { at: iso(6) });
    expect(actions).toHaveLength(1000);
    expect(new Set(actions.map((a) => a.deployment_id)).size).toBe(1000);
    expect(actions.every((a) => a.action === "decided")).toBe(true);
    ctx.ledger.close();
  });

  it("rolls back a paused deployment whose decide proves a regression (auto_rollback)", async () => {
    const ctx = await manualContext();
    startDeployment(ctx, { deployment_id: "bad", policy: basicPolicy({ check_every: "5m" }), at: iso(0) });
    pauseDeployment(ctx, { deployment_id: "bad", reason: "investigating an alert", at: iso(1) });
    // The canary errs 30 times as often as control.
    const slices = healthySliceLines({ startMs: T0, minutes: 20, canaryErrorRate: 0.3 }).map(
      (l) => JSON.parse(l) as Slice,
    );
    recordMetrics(ctx, { deployment_id: "bad", slices, at: iso(20) });
    const action = tickDeployment(ctx, "bad", iso(20));
    expect(action).toMatchObject({
      action: "rolled_back",
      verdict: "rollback",
      state: "rolled_back",
      percent: 0,
    });
    expect(getDeployment(ctx.ledger, "bad").state).toBe("rolled_back");
    ctx.ledger.close();
  });

  it("a paused deployment is looked at but never promoted, and without auto_rollback it stays paused", async () => {
    const ctx = await manualContext();
    startDeployment(ctx, {
      deployment_id: "held",
      policy: basicPolicy({ check_every: "5m", auto_rollback: false }),
      at: iso(0),
    });
    pauseDeployment(ctx, { deployment_id: "held", reason: "investigating an alert", at: iso(1) });
    const slices = healthySliceLines({ startMs: T0, minutes: 20, canaryErrorRate: 0.3 }).map(
      (l) => JSON.parse(l) as Slice,
    );
    recordMetrics(ctx, { deployment_id: "held", slices, at: iso(20) });
    const action = tickDeployment(ctx, "held", iso(20));
    expect(action).toMatchObject({ action: "decided", verdict: "rollback", state: "paused" });
    ctx.ledger.close();
  });
});

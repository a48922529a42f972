import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createAssigner } from "../../../mcp-server/cohort-assigner.js";
import { manualTime } from "../../../mcp-server/controller/clock.js";
import { createController } from "../../../mcp-server/controller/controller.js";
import { verifyLedger } from "../../../mcp-server/ledger/audit.js";
import { getDeployment, listTransitions } from "../../../mcp-server/ledger/deployments.js";
import { openLedger } from "../../../mcp-server/ledger/open.js";
import { manualClock, type OperationContext } from "../../../mcp-server/operations/context.js";
import { recordMetrics } from "../../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../../mcp-server/operations/start-deployment.js";
import { tempDir } from "../../support/cli.js";
import { basicPolicy } from "../../support/policies.js";
import { trafficSlices } from "../../support/service-traffic.js";

const T0 = Date.parse("2026-05-26T10:00:00Z");
const MIN = 60_000;

async function contextOn(path: string): Promise<OperationContext> {
  return {
    ledger: openLedger(path, { clockMode: "manual" }),
    clock: manualClock,
    actor: "controller@test",
    assigner: await createAssigner(),
    readPolicyFile: () => {
      throw new Error("no files in this test");
    },
  };
}

describe("the controller", () => {
  it("takes a healthy deployment up the ladder on its own, and a standby takes over when the leader dies", async () => {
    const path = join(tempDir(), "ledger.db");
    const a = await contextOn(path);
    const b = await contextOn(path);
    const policy = basicPolicy({
      check_every: "5m",
      ladder: [{ percent: 10, window: "20m" }, { percent: 50, window: "20m" }, { percent: 100 }],
    });
    startDeployment(a, { deployment_id: "pay-1", policy, at: new Date(T0).toISOString() });
    const clock = manualTime(T0);
    const leaseMs = 2 * MIN;
    const leader = createController({ ctx: a, clock, holder: "a", leaseMs });
    const standby = createController({ ctx: b, clock, holder: "b", leaseMs });

    let dataUntil = T0;
    let killedAt: number | undefined;
    let takeoverAt: number | undefined;
    for (let t = T0 + MIN; t <= T0 + 120 * MIN; t += MIN) {
      clock.set(t);
      const d = getDeployment(a.ledger, "pay-1");
      if (d.state !== "canary") break;
      recordMetrics(a, {
        deployment_id: "pay-1",
        slices: trafficSlices({
          from: dataUntil,
          to: t,
          rps: 200,
          percentAt: () => d.percent,
          behaviour: () => ({ errorRate: 0.01 }),
          seed: t,
        }),
        at: new Date(t).toISOString(),
      });
      dataUntil = t;
      // The leader acts until it dies at minute 30 (after its first promotion); the standby looks every minute.
      if (killedAt === undefined && t >= T0 + 30 * MIN) killedAt = t;
      if (killedAt === undefined) {
        const pass = await leader.runOnce();
        expect(pass.leader).toBe(true);
      }
      const pass = await standby.runOnce();
      if (killedAt === undefined)
        expect(pass.leader, "the standby never acts while the leader holds the lease").toBe(false);
      else if (pass.leader && takeoverAt === undefined) takeoverAt = t;
    }

    const d = getDeployment(a.ledger, "pay-1");
    expect(d.state).toBe("completed");
    expect(killedAt).toBeDefined();
    expect(takeoverAt).toBeDefined();
    // The standby takes over once the dead leader's lease has expired, within two lease periods.
    expect(takeoverAt! - killedAt!).toBeLessThanOrEqual(2 * leaseMs);
    // Each rung was taken exactly once, by whichever controller led.
    const moves = listTransitions(a.ledger, "pay-1").filter(
      (t) => t.kind === "promote" || t.kind === "complete",
    );
    expect(moves.map((m) => m.to_step)).toEqual([1, 2]);
    expect(new Set(moves.map((m) => m.actor))).toEqual(new Set(["controller@test"]));
    expect(verifyLedger(a.ledger).ok).toBe(true);
    a.ledger.close();
    b.ledger.close();
  });

  it("rolls back a bad canary without any call but its own passes, and says when it next wakes", async () => {
    const path = join(tempDir(), "ledger.db");
    const ctx = await contextOn(path);
    startDeployment(ctx, {
      deployment_id: "pay-2",
      policy: basicPolicy({ check_every: "5m" }),
      at: new Date(T0).toISOString(),
    });
    const clock = manualTime(T0);
    const controller = createController({ ctx, clock, holder: "solo", leaseMs: 60_000 });
    let dataUntil = T0;
    let rolledBackAt: number | undefined;
    for (let t = T0 + MIN; t <= T0 + 60 * MIN && rolledBackAt === undefined; t += MIN) {
      clock.set(t);
      recordMetrics(ctx, {
        deployment_id: "pay-2",
        slices: trafficSlices({
          from: dataUntil,
          to: t,
          rps: 500,
          percentAt: () => 1,
          behaviour: (_t, cohort) => ({ errorRate: cohort === "canary" ? 0.2 : 0.01 }),
          seed: t,
        }),
        at: new Date(t).toISOString(),
      });
      dataUntil = t;
      const pass = await controller.runOnce();
      expect(pass.nextWakeAt).toBeGreaterThan(t);
      if (pass.actions.some((x) => x.action === "rolled_back")) rolledBackAt = t;
    }
    expect(rolledBackAt).toBeDefined();
    expect(getDeployment(ctx.ledger, "pay-2").state).toBe("rolled_back");
    // Looks follow check_every (5 minutes from the step's start), not every pass.
    expect((rolledBackAt! - T0) % (5 * MIN)).toBe(0);
    expect(controller.stats().looks).toBe((rolledBackAt! - T0) / (5 * MIN));
    ctx.ledger.close();
  });

  it("holds on a metric source that cannot be reached, and acts as on_source_error says once max_errors looks in a row failed", async () => {
    // A real pull against a port nothing listens on: every query fails with a connection error.
    const ctx = await contextOn(join(tempDir(), "ledger.db"));
    startDeployment(ctx, {
      deployment_id: "pay-3",
      policy: basicPolicy({
        check_every: "1m",
        on_source_error: "rollback",
        source: {
          prometheus: { url: "http://127.0.0.1:9", timeout: "1s" },
          max_errors: 2,
          series: {
            http_requests: 'sum(increase(http_requests_total{cohort="{{cohort}}"}[{{slice}}]))',
            http_errors: 'sum(increase(http_requests_total{cohort="{{cohort}}",code="500"}[{{slice}}]))',
          },
        },
      }),
      at: new Date(T0).toISOString(),
    });
    const clock = manualTime(T0);
    const controller = createController({ ctx, clock, holder: "solo", leaseMs: 60_000 });
    const looks: { verdict: string | null; codes: string[]; action: string }[] = [];
    for (
      let t = T0 + 2 * MIN;
      t <= T0 + 6 * MIN && getDeployment(ctx.ledger, "pay-3").state === "canary";
      t += MIN
    ) {
      clock.set(t);
      for (const a of (await controller.runOnce()).actions)
        looks.push({ verdict: a.verdict, codes: a.reason_codes, action: a.action });
    }
    expect(looks[0]).toMatchObject({ verdict: "hold", action: "decided" });
    expect(looks[0]!.codes).toContain("provider_error");
    expect(looks.at(-1)).toMatchObject({ verdict: "rollback", action: "rolled_back" });
    expect(getDeployment(ctx.ledger, "pay-3").state).toBe("rolled_back");
    ctx.ledger.close();
  });
});

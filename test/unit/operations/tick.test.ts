import { describe, expect, it } from "vitest";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { tickAll, tickDeployment } from "../../../mcp-server/operations/tick.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

describe("tick acts only as far as the policy lets it", () => {
  it("promotes a healthy canary on a due look when auto_promote is on", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const a = tickDeployment(ctx, "d1", iso(T0 + 11 * MIN));
    expect(a).toMatchObject({
      action: "promoted",
      verdict: "promote",
      step: 1,
      percent: 50,
      state: "canary",
    });
    expect(getDeployment(ctx.ledger, "d1").percent).toBe(50);
  });

  it("with auto_promote off records the promote verdict and moves nothing", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_promote: false }));
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const a = tickDeployment(ctx, "d1", iso(T0 + 11 * MIN));
    expect(a).toMatchObject({ action: "decided", verdict: "promote", step: 0, percent: 10 });
    // A second tick inside the fresh verdict neither decides again nor promotes.
    const again = tickDeployment(ctx, "d1", iso(T0 + 12 * MIN));
    expect(again).toMatchObject({ action: "none", verdict: "promote", step: 0 });
    expect(getDeployment(ctx.ledger, "d1").step).toBe(0);
  });

  it("rolls back a proven regression when auto_rollback is on", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    const a = tickDeployment(ctx, "d1", iso(T0 + 5 * MIN));
    expect(a).toMatchObject({ action: "rolled_back", verdict: "rollback", state: "rolled_back", percent: 0 });
    expect(a.reason_codes).toContain("regression");
    expect(a.next_due_at).toBeNull();
  });

  it("with auto_rollback off records the rollback verdict and keeps the canary", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_rollback: false }));
    feed(ctx, "d1", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    const a = tickDeployment(ctx, "d1", iso(T0 + 5 * MIN));
    expect(a).toMatchObject({ action: "decided", verdict: "rollback", state: "canary", percent: 10 });
    expect(getDeployment(ctx.ledger, "d1").state).toBe("canary");
  });

  it("does nothing before the first look is due, and says when it is", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 2, percent: 10, canaryErrors: 0.01 });
    const a = tickDeployment(ctx, "d1", iso(T0 + 2 * MIN));
    expect(a).toMatchObject({
      action: "none",
      verdict: null,
      reason_codes: [],
      next_due_at: iso(T0 + 5 * MIN),
    });
  });

  it("tickAll passes over every active deployment in id order and skips ended ones", async () => {
    const ctx = await operationsContext();
    start(ctx, "b", busyPolicy({ service: "svc-b" }));
    start(ctx, "a", busyPolicy({ service: "svc-a" }));
    feed(ctx, "a", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    feed(ctx, "b", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.01 });
    const first = tickAll(ctx, iso(T0 + 5 * MIN));
    expect(first.map((x) => [x.deployment_id, x.action])).toEqual([
      ["a", "rolled_back"],
      ["b", "decided"],
    ]);
    const second = tickAll(ctx, iso(T0 + 6 * MIN));
    expect(second.map((x) => x.deployment_id)).toEqual(["b"]);
  });
});

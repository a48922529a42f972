import { describe, expect, it } from "vitest";
import { runTick } from "../../../mcp-server/controller/tick-pass.js";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { listDecisions } from "../../../mcp-server/ledger/decisions.js";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { pauseDeployment } from "../../../mcp-server/operations/pause-resume.js";
import { nextDueAt, tickDeployment } from "../../../mcp-server/operations/tick.js";
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

  it("a tick passes over every active deployment in id order and skips ended ones", async () => {
    const ctx = await operationsContext();
    start(ctx, "b", busyPolicy({ service: "svc-b" }));
    start(ctx, "a", busyPolicy({ service: "svc-a" }));
    feed(ctx, "a", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    feed(ctx, "b", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.01 });
    const first = (await runTick(ctx, { at: iso(T0 + 5 * MIN) })).actions;
    expect(first.map((x) => [x.deployment_id, x.action])).toEqual([
      ["a", "rolled_back"],
      ["b", "decided"],
    ]);
    const second = (await runTick(ctx, { at: iso(T0 + 6 * MIN) })).actions;
    expect(second.map((x) => x.deployment_id)).toEqual(["b"]);
  });
});

describe("tick around pauses, external ladders and replays", () => {
  it("a paused deployment is still looked at and rolled back on a proven regression, never promoted", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + MIN) });
    const held = tickDeployment(ctx, "d1", iso(T0 + 11 * MIN));
    expect(held).toMatchObject({ action: "decided", verdict: "hold", state: "paused", step: 0 });
    expect(held.reason_codes).toContain("paused");
    const ctx2 = await operationsContext();
    start(ctx2, "d1");
    feed(ctx2, "d1", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    pauseDeployment(ctx2, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + MIN) });
    expect(tickDeployment(ctx2, "d1", iso(T0 + 5 * MIN))).toMatchObject({
      action: "rolled_back",
      state: "rolled_back",
    });
  });

  it("with an external ladder the verdict is recorded and the traffic left to the controller", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ ladder_owner: "external" }));
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    expect(tickDeployment(ctx, "d1", iso(T0 + 11 * MIN))).toMatchObject({
      action: "decided",
      verdict: "promote",
      step: 0,
    });
  });

  it("a replay that moves the ladder itself asks for no promotion", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const a = tickDeployment(ctx, "d1", iso(T0 + 11 * MIN), { promote: false });
    expect(a).toMatchObject({
      action: "decided",
      verdict: "promote",
      step: 0,
      next_due_at: iso(T0 + 16 * MIN),
    });
  });

  it("a due hold is looked at again; the last canary rung completes", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ ladder: [{ percent: 10, window: "10m" }, { percent: 100 }] }));
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const first = tickDeployment(ctx, "d1", iso(T0 + 5 * MIN));
    expect(first).toMatchObject({ action: "decided", verdict: "hold", next_due_at: iso(T0 + 10 * MIN) });
    // Before the hold's next check nothing happens; the hold is still shown.
    expect(tickDeployment(ctx, "d1", iso(T0 + 7 * MIN))).toMatchObject({ action: "none", verdict: "hold" });
    expect(listDecisions(ctx.ledger, "d1")).toHaveLength(1);
    const done = tickDeployment(ctx, "d1", iso(T0 + 11 * MIN));
    expect(done).toMatchObject({ action: "completed", state: "completed", percent: 100, next_due_at: null });
  });

  it("a step change makes the first look due at the window end when that is sooner than check_every", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ check_every: "30m" }));
    const d = getDeployment(ctx.ledger, "d1");
    expect(nextDueAt(d, undefined)).toBe(T0 + 10 * MIN);
    const last = { ...d, step: 2 };
    expect(nextDueAt(last, undefined)).toBe(T0 + 30 * MIN);
    expect(nextDueAt(d, { next_check_at: T0 + 3 })).toBe(T0 + 3);
  });

  it("an automatic rollback names the decision and its reasons", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    tickDeployment(ctx, "d1", iso(T0 + 5 * MIN));
    const dec = listDecisions(ctx.ledger, "d1")[0]!;
    const entry = listAudit(ctx.ledger, { deploymentId: "d1" }).find((e) => e.action === "rollback")!;
    expect(entry.details.reason).toBe(
      `automatic rollback (decision #${dec.id}): ${dec.reasons.map((r) => r.message).join("; ")}`,
    );
  });

  it("a tick refuses a bad `at` even with nothing active", async () => {
    const ctx = await operationsContext();
    await expect(runTick(ctx, { at: "soon" })).rejects.toThrow(InvalidInputError);
    expect(await runTick(ctx, { at: iso(T0) })).toEqual({ actions: [] });
  });
});

import { describe, expect, it } from "vitest";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import { holdingSince, judgeContext, latestSeen, reportAt } from "../../../mcp-server/operations/judge.js";
import { pauseDeployment } from "../../../mcp-server/operations/pause-resume.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

// The judge's view of a deployment at a time, rebuilt from the ledger.

const APPROVER = "release-lead@example.com";
const promoteByHand = (ctx: Awaited<ReturnType<typeof operationsContext>>, at: number) =>
  promoteStep(
    { ...ctx, actor: APPROVER },
    { deployment_id: "d1", override: { reason: "judged by hand" }, at: iso(at) },
  );

describe("judgeContext: the steps and state as they stood at a time", () => {
  it("counts only the steps begun by then, or up to a recorded decision's step", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    promoteByHand(ctx, T0 + 11 * MIN);
    const d = getDeployment(ctx.ledger, "d1");
    const at = (t: number, asOf?: { step: number; state: "canary" }) => judgeContext(ctx, d, t, asOf);
    expect(at(T0 + 5 * MIN)).toEqual({
      deploymentId: "d1",
      policy: d.policy,
      steps: [{ step: 0, percent: 10, startedAt: T0 }],
      state: "canary",
      at: T0 + 5 * MIN,
    });
    expect(at(T0 + 11 * MIN).steps.map((s) => [s.step, s.percent, s.startedAt])).toEqual([
      [0, 10, T0],
      [1, 50, T0 + 11 * MIN],
    ]);
    // As of a decision on step 0 made at the promotion's instant: the promotion is not part of it.
    expect(at(T0 + 11 * MIN, { step: 0, state: "canary" }).steps.map((s) => s.step)).toEqual([0]);
    // Before the deployment existed: its first rung from its start.
    expect(at(T0 - MIN).steps).toEqual([{ step: 0, percent: 10, startedAt: T0 }]);
  });

  it("an ended deployment is ended from its end on, and running before it", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 5 * MIN) });
    const d = getDeployment(ctx.ledger, "d1");
    expect(judgeContext(ctx, d, T0 + 5 * MIN)).toMatchObject({ state: "rolled_back", endedAt: T0 + 5 * MIN });
    const before = judgeContext(ctx, d, T0 + 4 * MIN);
    expect(before.state).toBe("canary");
    expect(before.endedAt).toBeUndefined();
    // A decision's own state wins, and carries no end.
    const asOf = judgeContext(ctx, d, T0 + 6 * MIN, { step: 0, state: "canary" });
    expect(asOf.state).toBe("canary");
    expect(asOf.endedAt).toBeUndefined();
  });

  it("paused and completed deployments are judged as such", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ ladder: [{ percent: 10, window: "10m" }, { percent: 100 }] }));
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + MIN) });
    expect(judgeContext(ctx, getDeployment(ctx.ledger, "d1"), T0 + 2 * MIN).state).toBe("paused");
    const ctx2 = await operationsContext();
    start(ctx2, "d1", busyPolicy({ ladder: [{ percent: 10, window: "10m" }, { percent: 100 }] }));
    promoteByHand(ctx2, T0 + 3 * MIN);
    const done = judgeContext(ctx2, getDeployment(ctx2.ledger, "d1"), T0 + 4 * MIN);
    expect(done).toMatchObject({ state: "completed", endedAt: T0 + 3 * MIN });
    expect(done.steps.map((s) => s.percent)).toEqual([10, 100]);
  });
});

describe("holdingSince across steps", () => {
  it("holds on an earlier step do not start the current step's run", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 4, percent: 10, canaryErrors: 0.01 });
    expect(decide(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) }).verdict).toBe("hold");
    promoteByHand(ctx, T0 + 4 * MIN);
    feed(ctx, "d1", { from: T0 + 4 * MIN, minutes: 4, percent: 50, canaryErrors: 0.01 });
    expect(decide(ctx, { deployment_id: "d1", at: iso(T0 + 7 * MIN) }).verdict).toBe("hold");
    expect(holdingSince(ctx, getDeployment(ctx.ledger, "d1"))).toBe(T0 + 7 * MIN);
    expect(holdingSince(ctx, getDeployment(ctx.ledger, "d1"), 0)).toBeUndefined();
  });

  it("as of a decision on a later step, the steps up to it count", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    promoteByHand(ctx, T0 + 11 * MIN);
    const d = getDeployment(ctx.ledger, "d1");
    expect(
      judgeContext(ctx, d, T0 + 12 * MIN, { step: 1, state: "canary" }).steps.map((s) => s.step),
    ).toEqual([0, 1]);
  });
});

describe("reportAt and latestSeen", () => {
  it("an ended deployment's report stops at its end", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_rollback: false }));
    feed(ctx, "d1", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.01 });
    rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 5 * MIN) });
    const { report } = reportAt(ctx, getDeployment(ctx.ledger, "d1"), T0 + 9 * MIN);
    expect(report.state).toBe("rolled_back");
    expect(report.window?.to).toBe(iso(T0 + 5 * MIN));
  });

  it("with a source, a look judges only the slices that were complete by then (t + slice + lag <= now)", async () => {
    const ctx = await operationsContext();
    const source = {
      prometheus: { url: "http://127.0.0.1:9" },
      lag: "2m",
      series: { http_requests: 'r{c="{{cohort}}"}', http_errors: 'e{c="{{cohort}}"}' },
    };
    start(ctx, "d1", busyPolicy({ source }));
    start(ctx, "d2", busyPolicy({ service: "pushed" }));
    feed(ctx, "d1", { from: T0, minutes: 10, percent: 10, canaryErrors: 0.01 });
    feed(ctx, "d2", { from: T0, minutes: 10, percent: 10, canaryErrors: 0.01 });
    const pulled = reportAt(ctx, getDeployment(ctx.ledger, "d1"), T0 + 10 * MIN).report;
    const pushed = reportAt(ctx, getDeployment(ctx.ledger, "d2"), T0 + 10 * MIN).report;
    // Slices up to [7m, 8m): 8m + 2m lag = 10m.
    expect(pulled.rows[0]!.canary.count).toBeLessThan(pushed.rows[0]!.canary.count);
    const at8 = reportAt(ctx, getDeployment(ctx.ledger, "d2"), T0 + 8 * MIN).report;
    expect(pulled.rows[0]!.canary.count).toBe(at8.rows[0]!.canary.count);
    // One millisecond short of complete is not complete.
    const justBefore = reportAt(ctx, getDeployment(ctx.ledger, "d1"), T0 + 10 * MIN - 1).report;
    expect(justBefore.rows[0]!.canary.count).toBeLessThan(pulled.rows[0]!.canary.count);
  });

  it("the latest time seen is the newest slice's end or the last event, whichever is later", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    expect(latestSeen(ctx, getDeployment(ctx.ledger, "d1"))).toBe(T0);
    feed(ctx, "d1", { from: T0, minutes: 4, percent: 10, canaryErrors: 0.01 });
    expect(latestSeen(ctx, getDeployment(ctx.ledger, "d1"))).toBe(T0 + 4 * MIN);
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + 9 * MIN) });
    expect(latestSeen(ctx, getDeployment(ctx.ledger, "d1"))).toBe(T0 + 9 * MIN);
  });
});

import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../mcp-server/core/errors.js";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import { deploymentHistory } from "../../../mcp-server/operations/deployment-history.js";
import { reportAt } from "../../../mcp-server/operations/judge.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

describe("deployment history (the pages and canary report)", () => {
  it("before any decision shows the judge's report as of the latest time seen", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 4, percent: 10, canaryErrors: 0.01 });
    const { history, audit } = deploymentHistory(ctx, { deployment_id: "d1" });
    // Manual clock: "now" is the end of the newest slice.
    expect(history.as_of).toBe(iso(T0 + 4 * MIN));
    const now = reportAt(ctx, getDeployment(ctx.ledger, "d1"), T0 + 4 * MIN).report;
    expect(history.report).toEqual(now);
    expect(history.decisions).toEqual([]);
    expect(audit.map((e) => e.action)).toEqual(["start", "record_metrics"]);
  });

  it("after decisions shows the latest decision's report, and none when asked not to", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_promote: false }));
    feed(ctx, "d1", { from: T0, minutes: 12, percent: 10, canaryErrors: 0.01 });
    start(ctx, "d2", busyPolicy({ service: "other" }));
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) });
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 8 * MIN) });
    const last = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    const { history, audit } = deploymentHistory(ctx, { deployment_id: "d1" });
    expect(history.report).toEqual(last.report);
    expect(history.decisions.map((d) => d.verdict)).toEqual(["hold", "hold", "promote"]);
    // Only this deployment's audit entries.
    expect(new Set(audit.map((e) => e.deployment_id))).toEqual(new Set(["d1"]));
    // With the wall clock the labels speak for the clock's now.
    const wall = { ...ctx, clock: { mode: "real" as const, now: () => T0 + 90 * MIN } };
    expect(deploymentHistory(wall, { deployment_id: "d1" }).history.as_of).toBe(iso(T0 + 90 * MIN));
    expect(history.as_of).toBe(iso(T0 + 12 * MIN));
    expect(deploymentHistory(ctx, { deployment_id: "d1" }, { report: false }).history.report).toBeNull();
    expect(() => deploymentHistory(ctx, { deployment_id: "nope" })).toThrow(NotFoundError);
  });
});

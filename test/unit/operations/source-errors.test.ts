import { describe, expect, it } from "vitest";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import { failedLooksBefore } from "../../../mcp-server/operations/pull-metrics.js";
import { recheckDecision } from "../../../mcp-server/operations/recheck-decision.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

// source.max_errors counts consecutive looks with a failed source, from the recorded decisions.

const policy = () =>
  busyPolicy({
    source: {
      prometheus: { url: "http://127.0.0.1:9" },
      max_errors: 2,
      series: { http_requests: 'r{c="{{cohort}}"}', http_errors: 'e{c="{{cohort}}"}' },
    },
  });
const failed = [{ series: "http_errors", message: "canary: query timed out" }];

describe("consecutive failed looks", () => {
  it("a look where the source answered breaks the run", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", policy());
    feed(ctx, "d1", { from: T0, minutes: 6, percent: 10, canaryErrors: 0.01 });
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) }, failed);
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 4 * MIN) }, []);
    const third = decide(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) }, failed);
    expect(failedLooksBefore(ctx, getDeployment(ctx.ledger, "d1"), third.decision_id)).toBe(0);
    expect(third.reasons.join()).toMatch(/ends when the source answers again/);
    const fourth = decide(ctx, { deployment_id: "d1", at: iso(T0 + 6 * MIN) }, failed);
    expect(fourth.reasons.join()).toMatch(/2 consecutive failed looks reached source.max_errors 2/);
    expect(recheckDecision(ctx, { decision_id: fourth.decision_id }).matches).toBe(true);
  });

  it("counts at most max_errors looks back", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", policy());
    for (const m of [1, 2, 3, 4, 5]) decide(ctx, { deployment_id: "d1", at: iso(T0 + m * MIN) }, failed);
    expect(failedLooksBefore(ctx, getDeployment(ctx.ledger, "d1"))).toBe(2);
  });
});

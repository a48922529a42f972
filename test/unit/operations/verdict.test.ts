import { describe, expect, it } from "vitest";
import { InvalidInputError, RefusedError } from "../../../mcp-server/core/errors.js";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { listDecisions } from "../../../mcp-server/ledger/decisions.js";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import {
  recordReportedPercent,
  reportedPercent,
  rungForPercent,
} from "../../../mcp-server/operations/external-ladder.js";
import { pauseDeployment } from "../../../mcp-server/operations/pause-resume.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { verdict } from "../../../mcp-server/operations/verdict.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

// The verdict another controller acts on (Argo Rollouts, Flagger): what it answers, when it
// decides anew, and what it records.

const externalPolicy = () => busyPolicy({ ladder_owner: "external" });

describe("verdict: the latest fresh decision, or a new look", () => {
  it("decides on the first ask, answers the same decision while it is fresh, and decides again after", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 20, percent: 10, canaryErrors: 0.01 });
    const first = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) });
    expect(first).toMatchObject({
      deployment_id: "d1",
      verdict: "hold",
      decided_at: iso(T0 + 3 * MIN),
      next_check_at: iso(T0 + 8 * MIN),
      state: "canary",
      step: 0,
      percent: 10,
    });
    expect(first.decision_id).toBeGreaterThan(0);
    expect(first.reason_codes.length).toBe(first.reasons.length);
    expect(first.reason_codes).toEqual(["window_open"]);
    // Inside its next check, the same decision answers: nothing new is recorded.
    const again = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 8 * MIN) });
    expect(again.decision_id).toBe(first.decision_id);
    expect(listDecisions(ctx.ledger, "d1")).toHaveLength(1);
    // Past it, a new look.
    const later = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(later.decision_id).toBeGreaterThan(first.decision_id!);
    expect(later.verdict).toBe("promote");
    expect(listDecisions(ctx.ledger, "d1")).toHaveLength(2);
  });

  it("shows the report's rows as evidence, worst first, with the window judged", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const v = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    const stored = listDecisions(ctx.ledger, "d1")[0]!;
    expect(v.evidence.window).toEqual(stored.report.window);
    expect(v.evidence.window).not.toBeNull();
    expect(v.evidence.srm).toEqual(stored.report.srm);
    expect(v.evidence.rows).toHaveLength(stored.report.rows.length);
    const row = stored.report.rows[0]!;
    expect(v.evidence.rows[0]).toEqual({
      metric: "error_rate",
      statistic: row.statistic,
      status: row.status,
      evidence: row.evidence,
      threshold: row.threshold,
      rel_diff: row.rel_diff,
      ci_low: row.ci_low,
      ci_high: row.ci_high,
    });
    // A whole-cohort row carries no segment key at all.
    expect("segment" in v.evidence.rows[0]!).toBe(false);
  });

  it("shows at most 20 rows", async () => {
    const ctx = await operationsContext();
    const metric = (i: number) => ({
      name: `error_rate_${String(i).padStart(2, "0")}`,
      type: "ratio",
      events: "http_errors",
      trials: "http_requests",
      bad: "increase",
      tolerance: { relative: 0.2 },
      margin: { relative: 0.5 },
    });
    start(ctx, "d1", busyPolicy({ metrics: Array.from({ length: 22 }, (_, i) => metric(i)) }));
    feed(ctx, "d1", { from: T0, minutes: 3, percent: 10, canaryErrors: 0.01 });
    const v = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) });
    expect(listDecisions(ctx.ledger, "d1")[0]!.report.rows.length).toBe(22);
    expect(v.evidence.rows).toHaveLength(20);
  });

  it("a rollback verdict rolls back under auto_rollback, with the decision named in the reason", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    const v = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) });
    expect(v).toMatchObject({ verdict: "rollback", state: "rolled_back", percent: 0 });
    expect(v.reason_codes).toContain("regression");
    expect(getDeployment(ctx.ledger, "d1").state).toBe("rolled_back");
    const entry = listAudit(ctx.ledger, { deploymentId: "d1", limit: 10 }).find(
      (e) => e.action === "rollback",
    );
    expect(entry?.details.reason).toBe(
      `automatic rollback (decision #${v.decision_id}): ${v.reasons.join("; ")}`,
    );
  });

  it("without auto_rollback it answers rollback and leaves the canary where it is", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_rollback: false }));
    feed(ctx, "d1", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    const v = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) });
    expect(v).toMatchObject({ verdict: "rollback", state: "canary", percent: 10 });
    expect(getDeployment(ctx.ledger, "d1").state).toBe("canary");
  });

  it("a paused deployment answers hold with the paused reason and decides nothing", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + MIN) });
    const none = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 2 * MIN) });
    expect(none).toMatchObject({
      verdict: "hold",
      reasons: ["deployment d1 is paused; resume it to judge again"],
      reason_codes: ["paused"],
      decision_id: null,
      decided_at: null,
      state: "paused",
    });
    expect(none.evidence).toEqual({ window: null, srm: null, rows: [] });
    // With a decision made while paused, it is the one shown, but the answer still holds.
    const held = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    const later = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 20 * MIN) });
    expect(later).toMatchObject({ verdict: "hold", reason_codes: ["paused"], decision_id: held.decision_id });
    expect(listDecisions(ctx.ledger, "d1")).toHaveLength(1);
  });

  it("a fresh promote made before a pause is not answered while paused", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const promote = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(promote.verdict).toBe("promote");
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + 11 * MIN) });
    const v = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(v).toMatchObject({ verdict: "hold", reason_codes: ["paused"], decision_id: promote.decision_id });
  });

  it("a decision from an earlier step is not fresh: the new step gets its own look", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_promote: false }));
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const promote = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    promoteStep(ctx, { deployment_id: "d1", expected_step: 0, at: iso(T0 + 11 * MIN) });
    const v = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(v.decision_id).not.toBe(promote.decision_id);
    expect(v).toMatchObject({ step: 1, percent: 50, verdict: "hold" });
  });
});

describe("verdict of an ended deployment: its end, whatever the last look said", () => {
  it("rolled back: rollback at 0%, the end first and the last look's reasons after", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const last = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 11 * MIN) });
    const v = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 12 * MIN) });
    expect(v).toMatchObject({
      verdict: "rollback",
      percent: 0,
      state: "rolled_back",
      decision_id: last.decision_id,
      reasons: ["deployment d1 is rolled_back", ...last.reasons],
      reason_codes: ["rolled_back", ...last.reason_codes],
    });
  });

  it("completed: promote at 100%; with no decision at all, the end alone", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ ladder: [{ percent: 10, window: "10m" }, { percent: 100 }] }));
    const approver = { ...ctx, actor: "release-lead@example.com" };
    promoteStep(approver, { deployment_id: "d1", override: { reason: "judged by hand" }, at: iso(T0 + MIN) });
    const v = verdict(ctx, { deployment_id: "d1", at: iso(T0 + 2 * MIN) });
    expect(v).toMatchObject({
      verdict: "promote",
      percent: 100,
      state: "completed",
      decision_id: null,
      reasons: ["deployment d1 is completed"],
      reason_codes: ["completed"],
    });
  });
});

describe("verdict with a reported percent", () => {
  it("on a ladder canary-pilot runs, its own percent is fine and any other is refused", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    expect(verdict(ctx, { deployment_id: "d1", percent: 10, at: iso(T0 + MIN) }).percent).toBe(10);
    const error = (() => {
      try {
        verdict(ctx, { deployment_id: "d1", percent: 25, at: iso(T0 + MIN) });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).rule).toBe("ladder_owner");
    expect((error as Error).message).toMatch(/at 10% .* a reported percent \(25\)/);
    expect(getDeployment(ctx.ledger, "d1").percent).toBe(10);
  });

  it("external ladder: a new percent starts a judged step of its own at that time", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", externalPolicy());
    const v = verdict(ctx, { deployment_id: "d1", percent: 25, at: iso(T0 + 4 * MIN) });
    expect(v).toMatchObject({ step: 1, percent: 25, state: "canary", verdict: "hold" });
    const d = getDeployment(ctx.ledger, "d1");
    expect(d).toMatchObject({ step: 1, percent: 25, step_started_at: T0 + 4 * MIN });
    const entry = listAudit(ctx.ledger, { deploymentId: "d1", limit: 20 }).find(
      (e) => e.action === "percent_reported",
    );
    expect(entry?.details).toEqual({
      from_percent: 10,
      percent: 25,
      rung: 1,
      reason: "reported",
    });
    // The same percent again changes nothing.
    verdict(ctx, { deployment_id: "d1", percent: 25, at: iso(T0 + 20 * MIN) });
    expect(getDeployment(ctx.ledger, "d1").step_started_at).toBe(T0 + 4 * MIN);
  });

  it("external ladder: a restarted analysis at the same percent is judged afresh", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", externalPolicy());
    const first = verdict(ctx, { deployment_id: "d1", percent: 30, at: iso(T0 + 4 * MIN) });
    ctx.ledger.write(() =>
      recordReportedPercent(ctx, getDeployment(ctx.ledger, "d1"), 30, T0 + 5 * MIN, { restart: true }),
    );
    const again = verdict(ctx, { deployment_id: "d1", percent: 30, at: iso(T0 + 6 * MIN) });
    expect(again.decision_id).not.toBe(first.decision_id);
    expect(again.decided_at).toBe(iso(T0 + 6 * MIN));
  });

  it("external ladder: promote_step is refused, the controller moves the traffic", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", externalPolicy());
    const error = (() => {
      try {
        promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + MIN) });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).rule).toBe("ladder_owner");
    expect((error as Error).message).toMatch(/verdict\?percent=P/);
  });
});

describe("reported percents", () => {
  it("take the window of the first rung at or above them, never the final 100% rung", () => {
    const policy = {
      ladder: [{ percent: 10 }, { percent: 50 }, { percent: 100 }],
    } as unknown as Parameters<typeof rungForPercent>[0];
    expect(rungForPercent(policy, 5)).toBe(0);
    expect(rungForPercent(policy, 10)).toBe(0);
    expect(rungForPercent(policy, 10.01)).toBe(1);
    expect(rungForPercent(policy, 50)).toBe(1);
    expect(rungForPercent(policy, 60)).toBe(1);
    expect(rungForPercent(policy, 150)).toBe(1);
  });

  it("are multiples of 0.01 strictly between 0 and 100, numbers or numeric strings", () => {
    expect(reportedPercent(12.5)).toBe(12.5);
    expect(reportedPercent(" 30 ")).toBe(30);
    expect(reportedPercent(0.01)).toBe(0.01);
    expect(reportedPercent(99.99)).toBe(99.99);
    for (const bad of [0, 100, "", "  ", "abc", 12.345, -1]) {
      const error = (() => {
        try {
          reportedPercent(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error, String(bad)).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).toBe("percent");
    }
    expect(() => reportedPercent(100)).toThrow(/above 0 and below 100 \(got 100\)/);
    // An empty string is no number at all, not 0.
    expect(() => reportedPercent(" ")).toThrow(/must be a finite number/);
    expect(() => reportedPercent("12.5")).not.toThrow();
  });
});

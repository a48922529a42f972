import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../mcp-server/core/errors.js";
import { auditHead } from "../../../mcp-server/ledger/audit.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import {
  deploymentStatus,
  listDeploymentSummaries,
} from "../../../mcp-server/operations/deployment-status.js";
import { pauseDeployment, resumeDeployment } from "../../../mcp-server/operations/pause-resume.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { startDeployment } from "../../../mcp-server/operations/start-deployment.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

const webhook = [{ type: "webhook", url_env: "CANARY_TEST_HOOK" }];

describe("deployment_status", () => {
  it("shows where the ladder stands, the window, the next rung and the latest decision", async () => {
    const ctx = await operationsContext();
    startDeployment(ctx, {
      deployment_id: "d1",
      policy: busyPolicy({ auto_promote: false, notify: webhook }),
      version: "v2",
      author: "dev@example.com",
      at: iso(T0),
    });
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const dec = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    const s = deploymentStatus(ctx, { deployment_id: "d1" });
    expect(s).toMatchObject({
      deployment_id: "d1",
      service: "checkout",
      version: "v2",
      author: "dev@example.com",
      state: "canary",
      step: 0,
      percent: 10,
      ladder: [
        { percent: 10, window: "10m" },
        { percent: 50, window: "10m" },
        { percent: 100, window: null },
      ],
      next_step: { step: 1, percent: 50 },
      started_at: iso(T0),
      step_started_at: iso(T0),
      window_ends_at: iso(T0 + 10 * MIN),
      ended_at: null,
      latest_decision: {
        decision_id: dec.decision_id,
        verdict: "promote",
        step: 0,
        decided_at: iso(T0 + 11 * MIN),
        next_check_at: dec.next_check_at,
        reasons: dec.reasons,
        reason_codes: dec.reason_codes,
        fresh: true,
      },
      // The start was announced to the webhook; nothing has delivered it.
      pending_notifications: 1,
      audit_head: auditHead(ctx.ledger),
    });
    expect(s.policy_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(s.transitions).toEqual([
      {
        kind: "start",
        from_step: null,
        to_step: 0,
        percent: 10,
        actor: "test:operator",
        reason: null,
        override: false,
        at: iso(T0),
      },
    ]);
  });

  it("a decision stops being fresh on a new step or past its next check", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_promote: false }));
    feed(ctx, "d1", { from: T0, minutes: 30, percent: 10, canaryErrors: 0.01 });
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    // Exactly at the next check (T0+16m) it is still fresh; with the wall clock past it, not.
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + 16 * MIN) });
    expect(deploymentStatus(ctx, { deployment_id: "d1" }).latest_decision?.fresh).toBe(true);
    const wall = { ...ctx, clock: { mode: "real" as const, now: () => T0 + 17 * MIN } };
    expect(deploymentStatus(wall, { deployment_id: "d1" }).latest_decision?.fresh).toBe(false);
    resumeDeployment(ctx, { deployment_id: "d1", reason: "incident over", at: iso(T0 + 16 * MIN) });
    // The last event is now past the decision's next check (T0+16m).
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + 17 * MIN) });
    const paused = deploymentStatus(ctx, { deployment_id: "d1" });
    expect(paused.latest_decision?.fresh).toBe(false);
    expect(paused.state).toBe("paused");
    // Paused still has a next rung: resuming continues the ladder.
    expect(paused.next_step).toEqual({ step: 1, percent: 50 });
  });

  it("after a promotion the old step's decision is not fresh; an override is shown as one", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_promote: false }));
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    promoteStep(ctx, { deployment_id: "d1", expected_step: 0, at: iso(T0 + 11 * MIN) });
    const approver = { ...ctx, actor: "release-lead@example.com" };
    promoteStep(approver, {
      deployment_id: "d1",
      override: { reason: "hotfix, judged by hand" },
      at: iso(T0 + 12 * MIN),
    });
    const s = deploymentStatus(ctx, { deployment_id: "d1" });
    expect(s).toMatchObject({
      state: "completed",
      step: 2,
      percent: 100,
      next_step: null,
      window_ends_at: null,
    });
    expect(s.ended_at).toBe(iso(T0 + 12 * MIN));
    expect(s.latest_decision?.fresh).toBe(false);
    expect(s.transitions.map((t) => [t.kind, t.from_step, t.to_step, t.override, t.reason])).toEqual([
      ["start", null, 0, false, null],
      ["promote", 0, 1, false, null],
      ["complete", 1, 2, true, "hotfix, judged by hand"],
    ]);
  });

  it("a rolled-back deployment has no next rung; an unknown one is not found", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 2 * MIN) });
    const s = deploymentStatus(ctx, { deployment_id: "d1" });
    expect(s).toMatchObject({ state: "rolled_back", percent: 0, next_step: null, latest_decision: null });
    expect(s.ended_at).toBe(iso(T0 + 2 * MIN));
    expect(() => deploymentStatus(ctx, { deployment_id: "nope" })).toThrow(NotFoundError);
  });
});

describe("list_deployments", () => {
  it("lists every deployment or only the active ones, with their times", async () => {
    const ctx = await operationsContext();
    startDeployment(ctx, {
      deployment_id: "a",
      policy: busyPolicy({ service: "svc-a" }),
      version: "1",
      at: iso(T0),
    });
    start(ctx, "b", busyPolicy({ service: "svc-b" }), T0 + MIN);
    rollback(ctx, { deployment_id: "a", reason: "pager: errors", at: iso(T0 + 3 * MIN) });
    const all = listDeploymentSummaries(ctx, {});
    expect(all.audit_head).toBe(auditHead(ctx.ledger));
    const a = all.deployments.find((d) => d.deployment_id === "a");
    expect(a).toEqual({
      deployment_id: "a",
      service: "svc-a",
      version: "1",
      state: "rolled_back",
      step: 0,
      percent: 0,
      started_at: iso(T0),
      last_event_at: iso(T0 + 3 * MIN),
      ended_at: iso(T0 + 3 * MIN),
    });
    expect(all.deployments.map((d) => d.deployment_id).sort()).toEqual(["a", "b"]);
    const active = listDeploymentSummaries(ctx, { active_only: true });
    expect(active.deployments.map((d) => [d.deployment_id, d.ended_at, d.version])).toEqual([
      ["b", null, null],
    ]);
    expect(listDeploymentSummaries(ctx, { limit: 1 }).deployments).toHaveLength(1);
    expect(() => listDeploymentSummaries(ctx, { limit: 0 })).toThrow();
  });
});

import { describe, expect, it } from "vitest";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { getDeployment, listTransitions } from "../../../mcp-server/ledger/deployments.js";
import { pendingMessages } from "../../../mcp-server/ledger/outbox.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import { pauseDeployment } from "../../../mcp-server/operations/pause-resume.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, feed, iso, MIN, operationsContext, refusal, start, T0 } from "./harness.js";

const hook = [{ type: "webhook", url_env: "HOOK" }];
const APPROVER = "release-lead@example.com";

async function healthy(policy = busyPolicy({ auto_promote: false, notify: hook })) {
  const ctx = await operationsContext();
  start(ctx, "d1", policy);
  feed(ctx, "d1", { from: T0, minutes: 30, percent: 10, canaryErrors: 0.01 });
  return ctx;
}

describe("promote_step on a fresh promote verdict", () => {
  it("moves one rung, records the transition on the decision, audits it and tells the targets", async () => {
    const ctx = await healthy();
    const dec = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    const out = promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 12 * MIN) });
    expect(out).toEqual({
      deployment_id: "d1",
      state: "canary",
      step: 1,
      percent: 50,
      moved: true,
      override: false,
      decision_id: dec.decision_id,
      audit_head: out.audit_head,
    });
    expect(getDeployment(ctx.ledger, "d1")).toMatchObject({
      step: 1,
      percent: 50,
      step_started_at: T0 + 12 * MIN,
    });
    const t = listTransitions(ctx.ledger, "d1").at(-1)!;
    expect(t).toMatchObject({
      kind: "promote",
      from_step: 0,
      to_step: 1,
      percent: 50,
      override: 0,
      decision_id: dec.decision_id,
    });
    const entry = listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!;
    expect(entry.action).toBe("promote");
    expect(entry.entry_hash).toBe(out.audit_head);
    expect(entry.details).toEqual({
      from_step: 0,
      to_step: 1,
      from_percent: 10,
      to_percent: 50,
      decision_id: dec.decision_id,
      override: false,
    });
    expect(pendingMessages(ctx.ledger, "d1").map((m) => m.event)).toEqual(["started", "step_changed"]);
  });

  it("the last canary rung completes the deployment at 100%", async () => {
    const ctx = await healthy(
      busyPolicy({
        auto_promote: false,
        notify: hook,
        ladder: [{ percent: 10, window: "10m" }, { percent: 100 }],
      }),
    );
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    const out = promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(out).toMatchObject({ state: "completed", step: 1, percent: 100, moved: true });
    expect(getDeployment(ctx.ledger, "d1")).toMatchObject({ state: "completed", ended_at: T0 + 11 * MIN });
    expect(listTransitions(ctx.ledger, "d1").at(-1)!.kind).toBe("complete");
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!.action).toBe("complete");
    expect(pendingMessages(ctx.ledger, "d1").map((m) => m.event)).toEqual(["started", "completed"]);
    const again = refusal(() => promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 12 * MIN) }));
    expect(again.rule).toBe("deployment_ended");
    expect(again.message).toBe("deployment d1 is completed; only a running canary can be promoted");
  });

  it("a verdict past its next check is stale; a hold or rollback is not a promote; each says why", async () => {
    const ctx = await healthy();
    const none = refusal(() => promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) }));
    expect(none.message).toBe(
      "cannot promote d1: no decision on step 0 yet (call decide). An approver may override with a reason.",
    );
    const hold = decide(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) });
    const held = refusal(() => promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 6 * MIN) }));
    expect(held.rule).toBe("fresh_promote_required");
    expect(held.message).toMatch(
      new RegExp(
        `the latest decision \\(#${hold.decision_id}\\) is hold: ${hold.reason_codes.join(", ")}\\.`,
      ),
    );
    const promote = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    // Exactly at the next check it is still fresh; a moment later it is stale.
    const stale = refusal(() => promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 16 * MIN + 1) }));
    expect(stale.message).toMatch(
      new RegExp(
        `the promote decision #${promote.decision_id} is stale \\(next check was due 2026-05-26T10:16:00.000Z\\); call decide again`,
      ),
    );
  });

  it("exactly at its next check a promote verdict is still fresh", async () => {
    const ctx = await healthy();
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 16 * MIN) }).moved).toBe(true);
  });

  it("a paused deployment, a decision of another step and going back in time are refused", async () => {
    const ctx = await healthy();
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    const back = refusal(() => promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 10 * MIN) }));
    expect(back.rule).toBe("time_order");
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + 12 * MIN) });
    const paused = refusal(() => promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 12 * MIN) }));
    expect(paused.rule).toBe("paused");
    expect(paused.message).toBe("deployment d1 is paused; only a running canary can be promoted");
  });

  it("a retry after the move, with the step it was on, is a safe repeat; a wrong step is refused", async () => {
    const ctx = await healthy();
    const dec = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    promoteStep(ctx, { deployment_id: "d1", expected_step: 0, at: iso(T0 + 11 * MIN) });
    expect(promoteStep(ctx, { deployment_id: "d1", expected_step: 0 })).toEqual({
      deployment_id: "d1",
      state: "canary",
      step: 1,
      percent: 50,
      moved: false,
      override: false,
      decision_id: dec.decision_id,
    });
    const ahead = refusal(() => promoteStep(ctx, { deployment_id: "d1", expected_step: 2 }));
    expect(ahead.rule).toBe("step_mismatch");
    expect(ahead.message).toMatch(/^expected step 2 but deployment d1 is at step 1 \(canary\)/);
    // After a rollback the last move is not a promotion: a retry is a mismatch, not a repeat.
    rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 12 * MIN) });
    expect(refusal(() => promoteStep(ctx, { deployment_id: "d1", expected_step: 0 })).rule).toBe(
      "step_mismatch",
    );
  });
});

describe("promote_step retries around the end of the ladder", () => {
  it("a retry of the completing promotion is a safe repeat of it", async () => {
    const ctx = await healthy(
      busyPolicy({ auto_promote: false, ladder: [{ percent: 10, window: "10m" }, { percent: 100 }] }),
    );
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    promoteStep(ctx, { deployment_id: "d1", expected_step: 0, at: iso(T0 + 11 * MIN) });
    expect(promoteStep(ctx, { deployment_id: "d1", expected_step: 0 })).toMatchObject({
      state: "completed",
      step: 1,
      percent: 100,
      moved: false,
    });
  });
});

describe("promote_step by an approver's override", () => {
  it("moves against the verdict, marks the transition, and audits and announces the override", async () => {
    const ctx = await healthy();
    const hold = decide(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) });
    const approver = { ...ctx, actor: APPROVER };
    const out = promoteStep(approver, {
      deployment_id: "d1",
      override: { reason: "hotfix, judged by hand" },
      at: iso(T0 + 6 * MIN),
    });
    expect(out).toMatchObject({ moved: true, override: true, step: 1, decision_id: hold.decision_id });
    expect(listTransitions(ctx.ledger, "d1").at(-1)).toMatchObject({
      override: 1,
      reason: "hotfix, judged by hand",
      actor: APPROVER,
    });
    const [override, promote] = listAudit(ctx.ledger, { deploymentId: "d1" }).slice(-2);
    expect(override!.action).toBe("override");
    expect(override!.details).toEqual({
      reason: "hotfix, judged by hand",
      from_step: 0,
      against_decision: hold.decision_id,
      against_verdict: "hold",
    });
    expect(promote!.details.override).toBe(true);
    expect(pendingMessages(ctx.ledger, "d1").map((m) => m.event)).toEqual([
      "started",
      "hold",
      "override",
      "step_changed",
    ]);
    // A retry of the override is a safe repeat that still says it was one.
    expect(
      promoteStep(approver, {
        deployment_id: "d1",
        expected_step: 0,
        override: { reason: "hotfix, judged by hand" },
      }),
    ).toMatchObject({
      moved: false,
      override: true,
    });
  });

  it("without any decision the override names none", async () => {
    const ctx = await healthy();
    promoteStep(
      { ...ctx, actor: APPROVER },
      { deployment_id: "d1", override: { reason: "judged by hand" }, at: iso(T0 + MIN) },
    );
    const override = listAudit(ctx.ledger, { deploymentId: "d1" }).find((e) => e.action === "override")!;
    expect(override.details).toMatchObject({ against_decision: null, against_verdict: null });
  });

  it("someone who is not an approver is told who is", async () => {
    const ctx = await healthy();
    const e = refusal(() =>
      promoteStep(ctx, { deployment_id: "d1", override: { reason: "trust me" }, at: iso(T0 + MIN) }),
    );
    expect(e.rule).toBe("approver_required");
    expect(e.message).toMatch(
      /^test:operator is not an approver of this policy \(release-lead@example.com\); only they may promote against the verdict \(no decision on step 0 yet/,
    );
    const two = await healthy(busyPolicy({ approvers: [APPROVER, "sre@example.com"] }));
    expect(
      refusal(() =>
        promoteStep(two, { deployment_id: "d1", override: { reason: "trust me" }, at: iso(T0 + MIN) }),
      ).message,
    ).toMatch(/\(release-lead@example.com, sre@example.com\)/);
    const ctx2 = await healthy(busyPolicy({ approvers: [] }));
    expect(
      refusal(() =>
        promoteStep(ctx2, { deployment_id: "d1", override: { reason: "trust me" }, at: iso(T0 + MIN) }),
      ).message,
    ).toMatch(/\(none named\)/);
  });
});

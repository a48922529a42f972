import { describe, expect, it } from "vitest";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { getDeployment, listTransitions } from "../../../mcp-server/ledger/deployments.js";
import { pendingMessages } from "../../../mcp-server/ledger/outbox.js";
import { pauseDeployment, resumeDeployment } from "../../../mcp-server/operations/pause-resume.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, iso, MIN, operationsContext, refusal, start, T0 } from "./harness.js";

describe("pause and resume", () => {
  it("pause freezes the ladder at its percent, audits the reason and announces a hold; a repeat moves nothing", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ notify: [{ type: "webhook", url_env: "HOOK" }] }));
    const out = pauseDeployment(ctx, {
      deployment_id: "d1",
      reason: "incident elsewhere",
      at: iso(T0 + MIN),
    });
    expect(out).toEqual({ deployment_id: "d1", state: "paused", step: 0, percent: 10, moved: true });
    expect(getDeployment(ctx.ledger, "d1")).toMatchObject({
      state: "paused",
      percent: 10,
      step_started_at: T0,
    });
    expect(listTransitions(ctx.ledger, "d1").at(-1)).toMatchObject({
      kind: "pause",
      from_step: 0,
      to_step: 0,
      percent: 10,
      reason: "incident elsewhere",
    });
    const entry = listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!;
    expect(entry).toMatchObject({
      action: "pause",
      at: iso(T0 + MIN),
      details: { reason: "incident elsewhere" },
    });
    expect(pendingMessages(ctx.ledger, "d1").map((m) => m.event)).toEqual(["started", "hold"]);
    expect(pauseDeployment(ctx, { deployment_id: "d1", reason: "again" })).toMatchObject({
      moved: false,
      state: "paused",
    });
    expect(listAudit(ctx.ledger, { deploymentId: "d1" })).toHaveLength(2);
  });

  it("resume continues where it stopped, without announcing anything", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ notify: [{ type: "webhook", url_env: "HOOK" }] }));
    expect(resumeDeployment(ctx, { deployment_id: "d1", reason: "not paused" })).toMatchObject({
      moved: false,
      state: "canary",
    });
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + MIN) });
    const out = resumeDeployment(ctx, {
      deployment_id: "d1",
      reason: "incident over",
      at: iso(T0 + 2 * MIN),
    });
    expect(out).toEqual({ deployment_id: "d1", state: "canary", step: 0, percent: 10, moved: true });
    expect(getDeployment(ctx.ledger, "d1")).toMatchObject({ state: "canary", step_started_at: T0 });
    expect(listTransitions(ctx.ledger, "d1").at(-1)!.kind).toBe("resume");
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)).toMatchObject({
      action: "resume",
      details: { reason: "incident over" },
    });
    expect(pendingMessages(ctx.ledger, "d1").map((m) => m.event)).toEqual(["started", "hold"]);
  });

  it("a completed deployment cannot be paused", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ ladder: [{ percent: 10, window: "10m" }, { percent: 100 }] }));
    promoteStep(
      { ...ctx, actor: "release-lead@example.com" },
      { deployment_id: "d1", override: { reason: "by hand" }, at: iso(T0 + MIN) },
    );
    expect(refusal(() => pauseDeployment(ctx, { deployment_id: "d1", reason: "incident" })).message).toBe(
      "deployment d1 is completed; there is nothing to pause",
    );
  });

  it("an ended deployment has nothing to pause or resume; time never goes back", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const back = refusal(() =>
      pauseDeployment(ctx, { deployment_id: "d1", reason: "incident", at: iso(T0 - MIN) }),
    );
    expect(back.rule).toBe("time_order");
    rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + MIN) });
    const pause = refusal(() => pauseDeployment(ctx, { deployment_id: "d1", reason: "incident" }));
    expect(pause.rule).toBe("deployment_ended");
    expect(pause.message).toBe("deployment d1 is rolled_back; there is nothing to pause");
    expect(refusal(() => resumeDeployment(ctx, { deployment_id: "d1", reason: "over" })).message).toBe(
      "deployment d1 is rolled_back; there is nothing to resume",
    );
  });
});

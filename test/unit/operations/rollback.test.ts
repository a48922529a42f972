import { describe, expect, it } from "vitest";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { getDeployment, listTransitions } from "../../../mcp-server/ledger/deployments.js";
import { pendingMessages } from "../../../mcp-server/ledger/outbox.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import { pauseDeployment } from "../../../mcp-server/operations/pause-resume.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { startDeployment } from "../../../mcp-server/operations/start-deployment.js";
import { busyPolicy, feed, iso, MIN, operationsContext, refusal, start, T0 } from "./harness.js";

const hook = [{ type: "webhook", url_env: "HOOK" }];

describe("rollback: the emergency brake", () => {
  it("sends routing to 0%, keeps the worst rows as evidence, and tells the author", async () => {
    const ctx = await operationsContext();
    startDeployment(ctx, {
      deployment_id: "d1",
      policy: busyPolicy({ auto_rollback: false, notify: hook }),
      author: "dev@example.com",
      at: iso(T0),
    });
    feed(ctx, "d1", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    const dec = decide(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) });
    const out = rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 6 * MIN) });
    const row = dec.report.rows[0]!;
    const evidence = [
      {
        metric: "error_rate",
        statistic: row.statistic,
        status: "regression",
        canary: row.canary.value,
        control: row.control.value,
        evidence: row.evidence,
      },
    ];
    expect(out).toEqual({
      deployment_id: "d1",
      state: "rolled_back",
      percent: 0,
      step: 0,
      moved: true,
      author: "dev@example.com",
      evidence: out.evidence,
      audit_head: out.audit_head,
    });
    expect(out.evidence[0]).toMatchObject({ metric: "error_rate", status: "regression" });
    expect(out.evidence[0]!.canary).toBeGreaterThan(out.evidence[0]!.control!);
    expect(getDeployment(ctx.ledger, "d1")).toMatchObject({
      state: "rolled_back",
      percent: 0,
      ended_at: T0 + 6 * MIN,
    });
    expect(listTransitions(ctx.ledger, "d1").at(-1)).toMatchObject({
      kind: "rollback",
      from_step: 0,
      to_step: 0,
      percent: 0,
      reason: "pager: errors",
      decision_id: dec.decision_id,
    });
    const entry = listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!;
    expect(entry).toMatchObject({ action: "rollback", entry_hash: out.audit_head });
    expect(entry.details).toEqual({
      reason: "pager: errors",
      from_percent: 10,
      decision_id: dec.decision_id,
      author: "dev@example.com",
      evidence: out.evidence,
      report: "canary://deployments/d1/report",
    });
    const message = pendingMessages(ctx.ledger, "d1").at(-1)!;
    expect(message.event).toBe("rollback");
    expect(message.payload).toMatchObject({ author: "dev@example.com", percent: 0, state: "rolled_back" });
    // A repeat moves nothing and shows the latest decision's evidence.
    const again = rollback(ctx, { deployment_id: "d1", reason: "again" });
    expect(again).toEqual({
      deployment_id: "d1",
      state: "rolled_back",
      percent: 0,
      step: 0,
      moved: false,
      author: "dev@example.com",
      evidence,
    });
  });

  it("without a decision the evidence is the report now; a repeat has none", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const out = rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + MIN) });
    expect(out.evidence.map((e) => e.metric)).toEqual(["error_rate"]);
    expect(out.author).toBeNull();
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!.details.decision_id).toBeNull();
    expect(rollback(ctx, { deployment_id: "d1", reason: "again" }).evidence).toEqual([]);
  });

  it("keeps at most the five worst rows as evidence", async () => {
    const ctx = await operationsContext();
    const metric = (i: number) => ({
      name: `error_rate_${i}`,
      type: "ratio",
      events: "http_errors",
      trials: "http_requests",
      bad: "increase",
      tolerance: { relative: 0.2 },
      margin: { relative: 0.5 },
    });
    start(ctx, "d1", busyPolicy({ metrics: [1, 2, 3, 4, 5, 6, 7].map(metric) }));
    feed(ctx, "d1", { from: T0, minutes: 3, percent: 10, canaryErrors: 0.01 });
    const out = rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 3 * MIN) });
    expect(out.evidence).toHaveLength(5);
  });

  it("works on a paused deployment and from a later step", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    promoteStep(
      { ...ctx, actor: "release-lead@example.com" },
      { deployment_id: "d1", override: { reason: "by hand" }, at: iso(T0 + MIN) },
    );
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + 2 * MIN) });
    const out = rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 3 * MIN) });
    expect(out).toMatchObject({ moved: true, step: 1, state: "rolled_back" });
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!.details.from_percent).toBe(50);
  });

  it("a completed deployment is reverted by a new deployment, not rolled back; time never goes back", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ ladder: [{ percent: 10, window: "10m" }, { percent: 100 }] }));
    const back = refusal(() => rollback(ctx, { deployment_id: "d1", reason: "pager", at: iso(T0 - MIN) }));
    expect(back.rule).toBe("time_order");
    promoteStep(
      { ...ctx, actor: "release-lead@example.com" },
      { deployment_id: "d1", override: { reason: "by hand" }, at: iso(T0 + MIN) },
    );
    const done = refusal(() => rollback(ctx, { deployment_id: "d1", reason: "pager: errors" }));
    expect(done.rule).toBe("deployment_completed");
    expect(done.message).toMatch(
      /completed at 100%; revert by starting a new deployment of the previous version/,
    );
  });
});

import { describe, expect, it } from "vitest";
import { RefusedError } from "../../../mcp-server/core/errors.js";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { getDeployment, listTransitions } from "../../../mcp-server/ledger/deployments.js";
import { pendingMessages } from "../../../mcp-server/ledger/outbox.js";
import {
  recordExternalCompletion,
  recordReportedPercent,
} from "../../../mcp-server/operations/external-ladder.js";
import { pauseDeployment } from "../../../mcp-server/operations/pause-resume.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, iso, MIN, operationsContext, start, T0 } from "./harness.js";

// What another controller's reports do to a deployment with ladder_owner: external.

const external = () =>
  busyPolicy({ ladder_owner: "external", notify: [{ type: "webhook", url_env: "HOOK" }] });

async function externalDeployment() {
  const ctx = await operationsContext();
  start(ctx, "d1", external());
  return ctx;
}

const report = (ctx: Awaited<ReturnType<typeof operationsContext>>, percent: number, at: number, opts = {}) =>
  ctx.ledger.write(() => recordReportedPercent(ctx, getDeployment(ctx.ledger, "d1"), percent, at, opts));

describe("recordReportedPercent", () => {
  it("a new percent is a new judged step on the rung whose window it takes, announced as a step change", async () => {
    const ctx = await externalDeployment();
    const d = report(ctx, 30, T0 + 4 * MIN);
    expect(d).toMatchObject({ step: 1, percent: 30, step_started_at: T0 + 4 * MIN, state: "canary" });
    expect(listTransitions(ctx.ledger, "d1").at(-1)).toMatchObject({
      kind: "promote",
      from_step: 0,
      to_step: 1,
      percent: 30,
      reason: "percent reported by the external controller",
    });
    const entry = listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!;
    expect(entry).toMatchObject({ action: "percent_reported", at: iso(T0 + 4 * MIN) });
    expect(pendingMessages(ctx.ledger, "d1").at(-1)).toMatchObject({ event: "step_changed" });
    expect(pendingMessages(ctx.ledger, "d1").at(-1)!.payload).toMatchObject({ step: 1, percent: 30 });
  });

  it("the same percent is nothing new, unless the controller restarted the analysis", async () => {
    const ctx = await externalDeployment();
    report(ctx, 30, T0 + 4 * MIN);
    expect(report(ctx, 30, T0 + 6 * MIN).step_started_at).toBe(T0 + 4 * MIN);
    const restarted = report(ctx, 30, T0 + 8 * MIN, { restart: true, reason: "analysis restarted" });
    expect(restarted.step_started_at).toBe(T0 + 8 * MIN);
    expect(listTransitions(ctx.ledger, "d1").at(-1)!.reason).toBe("analysis restarted");
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!.details).toEqual({
      from_percent: 30,
      percent: 30,
      rung: 1,
      reason: "analysis restarted",
    });
  });

  it("a paused deployment takes the percent and stays paused; an ended one ignores it", async () => {
    const ctx = await externalDeployment();
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + MIN) });
    expect(report(ctx, 30, T0 + 2 * MIN)).toMatchObject({ state: "paused", percent: 30 });
    rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 3 * MIN) });
    expect(report(ctx, 40, T0 + 4 * MIN)).toMatchObject({ state: "rolled_back", percent: 0 });
  });

  it("never goes back in time", async () => {
    const ctx = await externalDeployment();
    report(ctx, 30, T0 + 4 * MIN);
    expect(() => report(ctx, 40, T0 + 3 * MIN)).toThrow(RefusedError);
  });
});

describe("recordExternalCompletion", () => {
  it("completes the deployment at 100% on the last rung and announces it", async () => {
    const ctx = await externalDeployment();
    const d = ctx.ledger.write(() =>
      recordExternalCompletion(
        ctx,
        getDeployment(ctx.ledger, "d1"),
        T0 + 20 * MIN,
        "promoted by the controller",
      ),
    );
    expect(d).toMatchObject({ state: "completed", step: 2, percent: 100, ended_at: T0 + 20 * MIN });
    expect(listTransitions(ctx.ledger, "d1").at(-1)).toMatchObject({
      kind: "complete",
      to_step: 2,
      reason: "promoted by the controller",
    });
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)).toMatchObject({
      action: "complete",
      details: { reason: "promoted by the controller" },
    });
    expect(pendingMessages(ctx.ledger, "d1").at(-1)!.event).toBe("completed");
    // Already ended: nothing more happens.
    const again = ctx.ledger.write(() =>
      recordExternalCompletion(ctx, getDeployment(ctx.ledger, "d1"), T0 + 21 * MIN, "again"),
    );
    expect(again.ended_at).toBe(T0 + 20 * MIN);
    expect(() =>
      ctx.ledger.write(() =>
        recordExternalCompletion(ctx, getDeployment(ctx.ledger, "d1"), T0 - MIN, "late"),
      ),
    ).not.toThrow();
  });

  it("refuses to complete before the deployment's last event", async () => {
    const ctx = await externalDeployment();
    report(ctx, 30, T0 + 4 * MIN);
    expect(() =>
      ctx.ledger.write(() =>
        recordExternalCompletion(ctx, getDeployment(ctx.ledger, "d1"), T0 + 3 * MIN, "late"),
      ),
    ).toThrow(/never go backwards in time/);
  });
});

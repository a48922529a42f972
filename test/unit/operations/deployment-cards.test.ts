import { describe, expect, it } from "vitest";
import { auditHead } from "../../../mcp-server/ledger/audit.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import { deploymentCards } from "../../../mcp-server/operations/deployment-cards.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

describe("deployment cards (the status list)", () => {
  it("pages the deployments, active first, with each one's latest decision", async () => {
    const ctx = await operationsContext();
    for (const [i, id] of ["a", "b", "c"].entries())
      start(ctx, id, busyPolicy({ service: `svc-${id}` }), T0 + i * MIN);
    rollback(ctx, { deployment_id: "b", reason: "pager: errors", at: iso(T0 + 5 * MIN) });
    const first = deploymentCards(ctx, { per_page: 2 });
    expect(first).toMatchObject({
      total: 3,
      page: 1,
      pages: 2,
      per_page: 2,
      audit_head: auditHead(ctx.ledger),
    });
    expect(first.cards.map((c) => c.deployment.id)).toEqual(["c", "a"]);
    const second = deploymentCards(ctx, { page: "2", per_page: "2" });
    expect(second.cards.map((c) => c.deployment.id)).toEqual(["b"]);
    expect(second.page).toBe(2);
    // An ended deployment without a decision is not due a look.
    expect(second.cards[0]!.look).toMatchObject({
      decision_id: null,
      overdue: false,
      message: "no decision",
    });
    expect(first.cards[0]!.look).toMatchObject({ decision_id: null, overdue: true });
    expect(deploymentCards(ctx, { page: 9 }).cards).toEqual([]);
  });

  it("an empty ledger is one empty page; bad page numbers are refused with a reason", async () => {
    const ctx = await operationsContext();
    expect(deploymentCards(ctx, {})).toMatchObject({ total: 0, page: 1, pages: 1, per_page: 50, cards: [] });
    expect(() => deploymentCards(ctx, { page: 0 })).toThrow(/pages start at 1/);
    expect(() => deploymentCards(ctx, { per_page: 201 })).toThrow(/at most 200/);
    expect(() => deploymentCards(ctx, { page: "x" })).toThrow(/page/);
  });

  it("with the manual clock a look is overdue once newer slices than its next check arrived", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_promote: false }));
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const dec = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    const current = deploymentCards(ctx, {}).cards[0]!;
    expect(current.latest?.id).toBe(dec.decision_id);
    expect(current.look).toMatchObject({
      decision_id: dec.decision_id,
      stale: false,
      overdue: false,
      message: "current",
    });
    // Slices up to T0+16m, the next check: not overdue yet; one slice more and it is.
    feed(ctx, "d1", { from: T0 + 11 * MIN, minutes: 5, percent: 10, canaryErrors: 0.01 });
    expect(deploymentCards(ctx, {}).cards[0]!.look.overdue).toBe(false);
    feed(ctx, "d1", { from: T0 + 16 * MIN, minutes: 1, percent: 10, canaryErrors: 0.01 });
    const later = deploymentCards(ctx, {}).cards[0]!;
    expect(later.latestCanarySlice).toBe(T0 + 16 * MIN);
    expect(later.look.overdue).toBe(true);
    expect(later.look.message).toMatch(/a look is overdue: the next check was due 2026-05-26T10:16:00.000Z/);
    // With the wall clock, "now" is the clock's, whatever the slices say.
    const wall = (now: number) => ({ ...ctx, clock: { mode: "real" as const, now: () => now } });
    expect(deploymentCards(wall(T0 + 12 * MIN), {}).cards[0]!.look.overdue).toBe(false);
    expect(deploymentCards(wall(T0 + 60 * MIN), {}).cards[0]!.look.overdue).toBe(true);
    // After the promotion the decision is of the old step.
    promoteStep(ctx, { deployment_id: "d1", expected_step: 0, at: iso(T0 + 12 * MIN) });
    expect(deploymentCards(ctx, {}).cards[0]!.look.stale).toBe(true);
  });
});

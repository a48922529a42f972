import { describe, expect, it } from "vitest";
import { InvalidInputError, RefusedError } from "../../../mcp-server/core/errors.js";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { getDecision } from "../../../mcp-server/ledger/decisions.js";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { pendingMessages } from "../../../mcp-server/ledger/outbox.js";
import { resolveAt } from "../../../mcp-server/operations/context.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

const hook = [{ type: "webhook", url_env: "HOOK", events: ["hold"] }];

describe("decide records the verdict with its evidence", () => {
  it("stores the decision, audits it with the hashes, and moves the deployment's clock", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const out = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(out).toMatchObject({
      deployment_id: "d1",
      verdict: "promote",
      step: 0,
      percent: 10,
      decided_at: iso(T0 + 11 * MIN),
      next_check_at: iso(T0 + 16 * MIN),
    });
    expect("advice" in out).toBe(false);
    expect(out.policy_sha256).toBe(out.report.policy_sha256);
    expect(out.inputs_sha256).toBe(out.report.inputs_sha256);
    const stored = getDecision(ctx.ledger, out.decision_id)!;
    expect(stored).toMatchObject({
      deployment_id: "d1",
      step: 0,
      percent: 10,
      verdict: "promote",
      decided_at: T0 + 11 * MIN,
      next_check_at: T0 + 16 * MIN,
      actor: "test:operator",
      policy_sha256: out.policy_sha256,
      inputs_sha256: out.inputs_sha256,
    });
    expect(stored.reasons.map((r) => r.message)).toEqual(out.reasons);
    expect(getDeployment(ctx.ledger, "d1").last_event_at).toBe(T0 + 11 * MIN);
    const entry = listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!;
    expect(entry.entry_hash).toBe(out.audit_head);
    expect(entry.action).toBe("decide");
    expect(entry.details).toEqual({
      decision_id: out.decision_id,
      verdict: "promote",
      reason_codes: out.reason_codes,
      reasons: out.reasons,
      policy_sha256: out.policy_sha256,
      inputs_sha256: out.inputs_sha256,
      next_check_at: iso(T0 + 16 * MIN),
    });
    // Without `at` the manual clock uses the latest time seen.
    expect(decide(ctx, { deployment_id: "d1" }).decided_at).toBe(iso(T0 + 11 * MIN));
  });

  it("a hold that cannot be proven in time comes with advice", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01, rps: 2 });
    const out = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(out.verdict).toBe("hold");
    expect(out.advice).toBeDefined();
    expect(getDecision(ctx.ledger, out.decision_id)!.advice).toEqual(out.advice);
  });

  it("people hear about a hold when its reasons change, not at every look", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ notify: hook, auto_promote: false }));
    feed(ctx, "d1", { from: T0, minutes: 30, percent: 10, canaryErrors: 0.01 });
    const holds = () => pendingMessages(ctx.ledger, "d1").filter((m) => m.event === "hold").length;
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) });
    expect(holds()).toBe(1);
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 6 * MIN) });
    expect(holds()).toBe(1);
    // A promote in between: the next hold is news again.
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(holds()).toBe(1);
    promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    // The same reasons on a new step are news too.
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 12 * MIN) });
    expect(holds()).toBe(2);
    const payload = pendingMessages(ctx.ledger, "d1").at(-1)!.payload;
    expect(payload).toMatchObject({ event: "hold", verdict: "hold", step: 1, percent: 50 });
  });

  it("a hold on a new step is news even with the same reasons as the last hold", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ notify: hook }));
    feed(ctx, "d1", { from: T0, minutes: 4, percent: 10, canaryErrors: 0.01 });
    const first = decide(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) });
    promoteStep(
      { ...ctx, actor: "release-lead@example.com" },
      { deployment_id: "d1", override: { reason: "by hand" }, at: iso(T0 + 4 * MIN) },
    );
    feed(ctx, "d1", { from: T0 + 4 * MIN, minutes: 4, percent: 50, canaryErrors: 0.01 });
    const second = decide(ctx, { deployment_id: "d1", at: iso(T0 + 7 * MIN) });
    expect(second.reason_codes).toEqual(first.reason_codes);
    expect(
      pendingMessages(ctx.ledger, "d1")
        .filter((m) => m.event === "hold")
        .map((m) => m.payload.step),
    ).toEqual([0, 1]);
  });

  it("a completed deployment is not judged again", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ ladder: [{ percent: 10, window: "10m" }, { percent: 100 }] }));
    promoteStep(
      { ...ctx, actor: "release-lead@example.com" },
      { deployment_id: "d1", override: { reason: "by hand" }, at: iso(T0 + MIN) },
    );
    const e = (() => {
      try {
        decide(ctx, { deployment_id: "d1", at: iso(T0 + 2 * MIN) });
      } catch (error) {
        return error;
      }
    })() as RefusedError;
    expect(e.rule).toBe("deployment_ended");
    expect(e.message).toMatch(/^deployment d1 is completed; its report is still there/);
  });

  it("a hold whose reasons change is news", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ notify: hook }));
    feed(ctx, "d1", { from: T0, minutes: 30, percent: 10, canaryErrors: 0.01 });
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) });
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 4 * MIN) }, [
      { series: "http_errors", message: "timeout" },
    ]);
    expect(pendingMessages(ctx.ledger, "d1").filter((m) => m.event === "hold")).toHaveLength(2);
  });

  it("never goes back in time", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) });
    const e = (() => {
      try {
        decide(ctx, { deployment_id: "d1", at: iso(T0 + 4 * MIN) });
      } catch (error) {
        return error;
      }
    })() as RefusedError;
    expect(e).toBeInstanceOf(RefusedError);
    expect(e.rule).toBe("time_order");
    expect(e.message).toBe(
      "at 2026-05-26T10:04:00.000Z is before the deployment's last event (2026-05-26T10:05:00.000Z); state-changing calls never go backwards in time",
    );
    // The same instant is not going back.
    expect(decide(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) }).verdict).toBe("hold");
  });
});

describe("resolveAt: what `now` is for a call", () => {
  const real = async () => ({
    ...(await operationsContext()),
    clock: { mode: "real" as const, now: () => T0 + 42 },
  });

  it("the real clock refuses `at` and reads the wall clock", async () => {
    const ctx = await real();
    expect(resolveAt(ctx, undefined, undefined)).toBe(T0 + 42);
    expect(resolveAt(ctx, undefined, T0)).toBe(T0 + 42);
    const e = (() => {
      try {
        resolveAt(ctx, iso(T0), undefined);
      } catch (error) {
        return error;
      }
    })() as InvalidInputError;
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.field).toBe("at");
    expect(e.message).toMatch(/only accepted with the manual clock/);
  });

  it("the manual clock takes an ISO time, or the latest seen, and refuses anything else", async () => {
    const ctx = await operationsContext();
    expect(resolveAt(ctx, iso(T0), undefined)).toBe(T0);
    expect(resolveAt(ctx, "2026-05-26T10:00:00+02:00", undefined)).toBe(T0 - 120 * MIN);
    expect(resolveAt(ctx, undefined, T0 + 7)).toBe(T0 + 7);
    for (const bad of ["1748253600000", "May 26 2026", "2026-05-26T99:00:00Z", "x2026-05-26T10:00:00Z"]) {
      const e = (() => {
        try {
          resolveAt(ctx, bad, undefined);
        } catch (error) {
          return error;
        }
      })();
      expect(e, bad).toBeInstanceOf(InvalidInputError);
      expect((e as InvalidInputError).field).toBe("at");
      expect((e as Error).message).toBe(
        `expected an ISO-8601 time such as "2026-05-26T10:30:00Z", got "${bad}"`,
      );
    }
    expect(() => resolveAt(ctx, undefined, undefined)).toThrow(
      "with the manual clock the first call for a deployment needs `at` (an ISO-8601 time)",
    );
  });
});

import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../mcp-server/core/errors.js";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import { holdingSince } from "../../../mcp-server/operations/judge.js";
import { pauseDeployment, resumeDeployment } from "../../../mcp-server/operations/pause-resume.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, feed, iso, MIN, operationsContext, refusal, start, T0 } from "./harness.js";

describe("start", () => {
  it("starts at the first rung, repeats safely, and refuses a reused id or a second canary of the service", async () => {
    const ctx = await operationsContext();
    expect(start(ctx, "d1")).toMatchObject({
      state: "canary",
      step: 0,
      percent: 10,
      warnings: [],
      moved: true,
    });
    // The same id, policy and version again is a retried step: nothing changes.
    expect(start(ctx, "d1")).toMatchObject({ state: "canary", step: 0, moved: false });
    expect(refusal(() => start(ctx, "d1", busyPolicy({ check_every: "10m" }))).rule).toBe(
      "deployment_exists",
    );
    expect(refusal(() => start(ctx, "d2")).rule).toBe("one_active_per_service");
  });

  it("returns the policy's warnings with the deployment", async () => {
    const ctx = await operationsContext();
    const policy = busyPolicy();
    (policy.metrics as { tolerance: unknown }[])[0]!.tolerance = { relative: 10 };
    (policy.metrics as { margin: unknown }[])[0]!.margin = { relative: 10 };
    const out = start(ctx, "d1", policy);
    expect(out.warnings.map((w) => w.path)).toEqual([
      "metrics[0].tolerance.relative",
      "metrics[0].margin.relative",
    ]);
  });
});

describe("holdingSince: when the current run of holds on a step began (for max_hold)", () => {
  it("is the first hold of the run, and nothing once a later verdict is not a hold", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const d = () => getDeployment(ctx.ledger, "d1");
    expect(holdingSince(ctx, d())).toBeUndefined();
    const first = decide(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) });
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 6 * MIN) });
    expect(first.verdict).toBe("hold");
    expect(holdingSince(ctx, d())).toBe(T0 + 3 * MIN);
    // Decisions from this one on are not counted: the run before it began with the first hold.
    expect(holdingSince(ctx, d(), 0, first.decision_id + 1)).toBe(T0 + 3 * MIN);
    expect(holdingSince(ctx, d(), 0, first.decision_id)).toBeUndefined();
    const promote = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(promote.verdict).toBe("promote");
    expect(holdingSince(ctx, d())).toBeUndefined();
    // Another step's holds are not this step's.
    expect(holdingSince(ctx, d(), 1)).toBeUndefined();
  });
});

describe("promote_step", () => {
  it("needs a fresh promote verdict, checks expected_step, and repeats safely", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    expect(refusal(() => promoteStep(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) })).rule).toBe(
      "fresh_promote_required",
    );
    decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    const wrong = refusal(() =>
      promoteStep(ctx, { deployment_id: "d1", expected_step: 1, at: iso(T0 + 11 * MIN) }),
    );
    expect(wrong.message).toMatch(/check its status \(canary status, or the deployment_status tool\)/);
    const moved = promoteStep(ctx, { deployment_id: "d1", expected_step: 0, at: iso(T0 + 11 * MIN) });
    expect(moved).toMatchObject({ moved: true, step: 1, percent: 50, override: false });
    const repeat = promoteStep(ctx, { deployment_id: "d1", expected_step: 0, at: iso(T0 + 11 * MIN) });
    expect(repeat).toMatchObject({ moved: false, step: 1, percent: 50 });
  });

  it("lets only an approver override, with a reason", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const override = { reason: "hotfix, judged by hand" };
    expect(refusal(() => promoteStep(ctx, { deployment_id: "d1", override, at: iso(T0 + MIN) })).rule).toBe(
      "approver_required",
    );
    const approver = { ...ctx, actor: "release-lead@example.com" };
    expect(promoteStep(approver, { deployment_id: "d1", override, at: iso(T0 + MIN) })).toMatchObject({
      moved: true,
      override: true,
      step: 1,
    });
  });
});

describe("rollback, pause and resume", () => {
  it("rolls back to 0% once; a repeat moves nothing; deciding afterwards is refused", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const out = rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + MIN) });
    expect(out).toMatchObject({ state: "rolled_back", percent: 0, moved: true });
    expect(rollback(ctx, { deployment_id: "d1", reason: "again", at: iso(T0 + MIN) }).moved).toBe(false);
    const ended = refusal(() => decide(ctx, { deployment_id: "d1", at: iso(T0 + 2 * MIN) }));
    expect(ended.rule).toBe("deployment_ended");
    expect(ended.message).toMatch(/canary compare, or the compare_metrics tool/);
  });

  it("a paused deployment holds with the paused reason, and resumes", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    pauseDeployment(ctx, { deployment_id: "d1", reason: "incident elsewhere", at: iso(T0 + 11 * MIN) });
    const held = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(held.verdict).toBe("hold");
    expect(held.reason_codes[0]).toBe("paused");
    resumeDeployment(ctx, { deployment_id: "d1", reason: "incident over", at: iso(T0 + 12 * MIN) });
    expect(decide(ctx, { deployment_id: "d1", at: iso(T0 + 12 * MIN) }).verdict).toBe("promote");
  });

  it("an unknown deployment is not found, naming the field", async () => {
    const ctx = await operationsContext();
    expect(() => decide(ctx, { deployment_id: "nope", at: iso(T0) })).toThrow(NotFoundError);
  });
});

describe("bad input is quoted, never echoed in full", () => {
  it("a 4 000-character `at` is cut in the message", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const error = (() => {
      try {
        decide(ctx, { deployment_id: "d1", at: "x".repeat(4000) });
      } catch (e) {
        return e as Error;
      }
      throw new Error("expected bad input");
    })();
    expect(error.message).toMatch(/got "x+… \(4002 characters\)$/);
    expect(error.message.length).toBeLessThan(200);
  });
});

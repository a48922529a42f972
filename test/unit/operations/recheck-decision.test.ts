import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { recheckDecision } from "../../../mcp-server/operations/recheck-decision.js";
import { recordMetrics } from "../../../mcp-server/operations/record-metrics.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

// recheck_decision: a stored decision recomputed from the ledger as it stood at its time.

describe("recheck_decision", () => {
  it("reproduces a decision exactly, even after the promotion that acted on it", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_promote: false }));
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const hold = decide(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) });
    const promote = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    promoteStep(ctx, { deployment_id: "d1", expected_step: 0, at: iso(T0 + 11 * MIN) });
    for (const dec of [hold, promote]) {
      const out = recheckDecision(ctx, { decision_id: dec.decision_id });
      expect(out).toEqual({
        decision_id: dec.decision_id,
        deployment_id: "d1",
        matches: true,
        stored: {
          verdict: dec.verdict,
          reason_codes: dec.reason_codes,
          inputs_sha256: dec.inputs_sha256,
          policy_sha256: dec.policy_sha256,
        },
        recomputed: {
          verdict: dec.verdict,
          reason_codes: dec.reason_codes,
          inputs_sha256: dec.inputs_sha256,
          policy_sha256: dec.policy_sha256,
        },
        differences: [],
      });
    }
  });

  it("names what changed when a slice was re-sent after the decision", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ auto_promote: false }));
    const slices = feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const promote = decide(ctx, { deployment_id: "d1", at: iso(T0 + 11 * MIN) });
    expect(promote.verdict).toBe("promote");
    // The canary's slices re-sent with ten times the errors: the stored inputs are not the judged ones.
    const resent = slices
      .filter((s) => s.cohort === "canary")
      .map((s) => ({
        ...s,
        counters: {
          ...s.counters,
          http_errors: Math.min(s.counters!.http_requests!, s.counters!.http_errors! * 20 + 5),
        },
      }));
    recordMetrics(ctx, { deployment_id: "d1", slices: resent });
    const out = recheckDecision(ctx, { decision_id: promote.decision_id });
    expect(out.matches).toBe(false);
    expect(out.stored.verdict).toBe("promote");
    expect(out.recomputed.verdict).toBe("rollback");
    expect(out.recomputed.inputs_sha256).not.toBe(out.stored.inputs_sha256);
    expect(out.recomputed.policy_sha256).toBe(out.stored.policy_sha256);
    expect(out.differences).toEqual([
      "verdict: stored promote, recomputed rollback",
      `reason_codes: stored ${out.stored.reason_codes.join(",")}, recomputed ${out.recomputed.reason_codes.join(",")}`,
      "inputs_sha256: the stored slices changed after the decision",
    ]);
  });

  it("reads a failed source back from the decision's reasons and matches", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 11, percent: 10, canaryErrors: 0.01 });
    const errors = [{ series: "http_errors", message: "canary: cannot connect to the source" }];
    const looks = [11, 12, 13, 14].map((m) =>
      decide(ctx, { deployment_id: "d1", at: iso(T0 + m * MIN) }, errors),
    );
    expect(looks.map((l) => l.verdict)).toEqual(["hold", "hold", "hold", "hold"]);
    expect(looks[0]!.reason_codes).toContain("provider_error");
    expect(looks[2]!.reasons.join()).toMatch(/ends when the source answers again/);
    // The fourth consecutive failed look reaches max_errors: the count is part of the reason,
    // recomputed from the decisions before it.
    expect(looks[3]!.reasons.join()).toMatch(/4 consecutive failed looks reached source.max_errors 4/);
    for (const dec of looks) {
      const out = recheckDecision(ctx, { decision_id: dec.decision_id });
      expect(out.differences).toEqual([]);
      expect(out.matches).toBe(true);
    }
  });

  it("an unknown decision is bad input naming decision_id", async () => {
    const ctx = await operationsContext();
    const error = (() => {
      try {
        recheckDecision(ctx, { decision_id: 99 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe("decision_id");
    expect((error as Error).message).toBe("no decision #99 in this ledger");
  });
});

import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../mcp-server/core/errors.js";
import { assignCohort } from "../../../mcp-server/operations/assign-cohort.js";
import { promoteStep } from "../../../mcp-server/operations/promote-step.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, iso, MIN, operationsContext, start, T0 } from "./harness.js";

const users = Array.from({ length: 400 }, (_, i) => `user-${i}`);

describe("assign_cohort: routing follows the deployment's percent", () => {
  it("routes about the current percent to the canary, the same unit always the same way", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const out = users.map((u) => assignCohort(ctx, { deployment_id: "d1", unit_id: u }));
    expect(out.every((o) => o.percent === 10 && o.state === "canary" && o.deployment_id === "d1")).toBe(true);
    const canary = out.filter((o) => o.cohort === "canary").length;
    expect(canary).toBeGreaterThan(20);
    expect(canary).toBeLessThan(80);
    // A unit's cohort is its bucket against the percent: below 10% of 10 000 buckets is canary.
    for (const o of out) expect(o.cohort).toBe(o.bucket < 1000 ? "canary" : "control");
    expect(assignCohort(ctx, { deployment_id: "d1", unit_id: "user-7" })).toEqual(out[7]);
  });

  it("sends everyone to control once rolled back and to the canary once completed", async () => {
    const ctx = await operationsContext();
    start(ctx, "a", busyPolicy({ service: "svc-a" }));
    start(
      ctx,
      "b",
      busyPolicy({ service: "svc-b", ladder: [{ percent: 10, window: "10m" }, { percent: 100 }] }),
    );
    rollback(ctx, { deployment_id: "a", reason: "pager: errors", at: iso(T0 + MIN) });
    const approver = { ...ctx, actor: "release-lead@example.com" };
    promoteStep(approver, { deployment_id: "b", override: { reason: "judged by hand" }, at: iso(T0 + MIN) });
    const a = users.map((u) => assignCohort(ctx, { deployment_id: "a", unit_id: u }));
    const b = users.map((u) => assignCohort(ctx, { deployment_id: "b", unit_id: u }));
    expect(new Set(a.map((o) => `${o.cohort}@${o.percent}:${o.state}`))).toEqual(
      new Set(["control@0:rolled_back"]),
    );
    expect(new Set(b.map((o) => `${o.cohort}@${o.percent}:${o.state}`))).toEqual(
      new Set(["canary@100:completed"]),
    );
  });

  it("keeps units outside the policy's population out of both cohorts", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ population: { attribute: "country", in: ["NZ"] } }));
    const outside = assignCohort(ctx, { deployment_id: "d1", unit_id: "u1", attributes: { country: "FR" } });
    expect(outside.cohort).toBe("excluded");
    const inside = users.map((u) =>
      assignCohort(ctx, { deployment_id: "d1", unit_id: u, attributes: { country: "NZ" } }),
    );
    expect(inside.some((o) => o.cohort === "canary")).toBe(true);
    expect(inside.every((o) => o.cohort !== "excluded")).toBe(true);
  });

  it("an unknown deployment is not found", async () => {
    const ctx = await operationsContext();
    expect(() => assignCohort(ctx, { deployment_id: "nope", unit_id: "u" })).toThrow(NotFoundError);
  });
});

import { describe, expect, it } from "vitest";
import { runTick } from "../../../mcp-server/controller/tick-pass.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "../operations/harness.js";

describe("run_tick: pull, then tick", () => {
  it("ticks one deployment or all active ones", async () => {
    const ctx = await operationsContext();
    start(ctx, "a", busyPolicy({ service: "svc-a" }));
    start(ctx, "b", busyPolicy({ service: "svc-b" }));
    feed(ctx, "a", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    const one = await runTick(ctx, { deployment_id: "b", at: iso(T0 + 5 * MIN) });
    expect(one.actions.map((a) => [a.deployment_id, a.action])).toEqual([["b", "decided"]]);
    const all = await runTick(ctx, { at: iso(T0 + 5 * MIN) });
    expect(all.actions.map((a) => [a.deployment_id, a.action])).toEqual([
      ["a", "rolled_back"],
      ["b", "none"],
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { replayDeployment } from "../../../mcp-server/controller/replay.js";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";
import { getDeployment, listTransitions } from "../../../mcp-server/ledger/deployments.js";
import { realClock } from "../../../mcp-server/operations/context.js";
import { trafficSlices } from "../../support/service-traffic.js";
import { busyPolicy, iso, MIN, operationsContext, T0 } from "../operations/harness.js";

// Replays of recordings made with the service-traffic simulator, on a ledger of their own.

function recording(o: { minutes: number; percentAt: (t: number) => number; canaryErrors?: number }) {
  return trafficSlices({
    from: T0,
    to: T0 + o.minutes * MIN,
    rps: 400,
    percentAt: o.percentAt,
    behaviour: (_, cohort) => ({ errorRate: cohort === "canary" ? (o.canaryErrors ?? 0.01) : 0.01 }),
    seed: 11,
  });
}

const steps = (ctx: Awaited<ReturnType<typeof operationsContext>>) =>
  listTransitions(ctx.ledger, "r").map((t) => [t.kind, t.to_step, t.percent, t.at - T0]);

describe("replay in ladder mode: the policy's ladder moves on its verdicts", () => {
  it("a healthy recording is promoted rung by rung to completion", async () => {
    const ctx = await operationsContext();
    const r = await replayDeployment(ctx, {
      deploymentId: "r",
      policy: busyPolicy(),
      slices: recording({ minutes: 40, percentAt: (t) => (t < T0 + 10 * MIN ? 10 : 50) }),
    });
    expect(r).toMatchObject({
      deployment_id: "r",
      mode: "ladder",
      final_state: "completed",
      final_step: 2,
      final_percent: 100,
      started_at: iso(T0),
      data_until: iso(T0 + 40 * MIN),
    });
    expect(r.recorded_levels).toBeUndefined();
    expect(r.note).toMatch(/^the deployment completed within the recorded data \(mode ladder: /);
    expect(r.timeline.map((a) => [a.at, a.action, a.verdict])).toEqual([
      [iso(T0 + 5 * MIN), "decided", "hold"],
      [iso(T0 + 10 * MIN), "promoted", "promote"],
      [iso(T0 + 15 * MIN), "decided", "hold"],
      [iso(T0 + 20 * MIN), "completed", "promote"],
    ]);
    expect(r.ended_at).toBe(iso(T0 + 20 * MIN));
    // The look at the start finds nothing due and is not in the timeline.
    expect(r.looks).toBe(5);
    expect(steps(ctx)).toEqual([
      ["start", 0, 10, 0],
      ["promote", 1, 50, 10 * MIN],
      ["complete", 2, 100, 20 * MIN],
    ]);
  });

  it("a regression is rolled back; a recording that ends first leaves it running", async () => {
    const bad = await replayDeployment(await operationsContext(), {
      deploymentId: "r",
      policy: busyPolicy(),
      slices: recording({ minutes: 30, percentAt: () => 10, canaryErrors: 0.2 }),
    });
    expect(bad).toMatchObject({ final_state: "rolled_back", final_percent: 0 });
    expect(bad.note).toMatch(/^the deployment was rolled back within the recorded data/);
    expect(bad.timeline.at(-1)?.action).toBe("rolled_back");
    const short = await replayDeployment(await operationsContext(), {
      deploymentId: "r",
      policy: busyPolicy(),
      slices: recording({ minutes: 7, percentAt: () => 10 }),
      start: T0,
    });
    expect(short).toMatchObject({ final_state: "canary", final_step: 0, ended_at: iso(T0 + 7 * MIN) });
    expect(short.note).toMatch(
      /^the recorded data ended before the ladder did: the deployment was still running/,
    );
  });

  it("a recording made at a fixed 10% holds on the split once the replayed ladder is at 50%", async () => {
    const r = await replayDeployment(await operationsContext(), {
      deploymentId: "r",
      policy: busyPolicy(),
      slices: recording({ minutes: 40, percentAt: () => 10 }),
    });
    expect(r).toMatchObject({ final_state: "canary", final_step: 1, looks: 9, ended_at: iso(T0 + 40 * MIN) });
    expect(r.timeline.at(-1)?.reason_codes).toEqual(["srm"]);
  });

  it("slices arrive in time order whatever order they were given in", async () => {
    const slices = recording({ minutes: 40, percentAt: () => 10 });
    const a = await replayDeployment(await operationsContext(), {
      deploymentId: "r",
      policy: busyPolicy(),
      slices,
    });
    const b = await replayDeployment(await operationsContext(), {
      deploymentId: "r",
      policy: busyPolicy(),
      slices: [...slices].reverse(),
    });
    expect(b).toEqual(a);
  });
});

describe("replay in recorded mode: traffic follows the recording's percents", () => {
  it("percents that are the policy's rungs move its ladder at the recorded times, never by promotion", async () => {
    const ctx = await operationsContext();
    const r = await replayDeployment(ctx, {
      deploymentId: "r",
      policy: busyPolicy(),
      slices: recording({ minutes: 30, percentAt: (t) => (t < T0 + 15 * MIN ? 10 : 50) }),
      mode: "recorded",
    });
    expect(r.recorded_levels?.map((l) => [l.from, Math.round(l.percent), l.rung])).toEqual([
      [iso(T0), 10, 0],
      [iso(T0 + 15 * MIN), 50, 1],
    ]);
    expect(r).toMatchObject({ mode: "recorded", final_state: "canary", final_step: 1, final_percent: 50 });
    expect(r.note).toMatch(
      /mode recorded: traffic followed the recording's percents, 10(\.\d+)?% → 50(\.\d+)?%, each a rung of the policy; verdicts could roll back, never promote/,
    );
    expect(steps(ctx)).toEqual([
      ["start", 0, 10, 0],
      ["promote", 1, 50, 15 * MIN],
    ]);
    expect(r.timeline.some((a) => a.action === "promoted")).toBe(false);
  });

  it("percents that are not rungs make a ladder of their own, ending at 100%", async () => {
    const ctx = await operationsContext();
    const r = await replayDeployment(ctx, {
      deploymentId: "r",
      policy: busyPolicy(),
      slices: recording({ minutes: 30, percentAt: (t) => (t < T0 + 15 * MIN ? 3 : 25) }),
      mode: "recorded",
    });
    expect(r.recorded_levels?.map((l) => l.rung)).toEqual([null, null]);
    // The replayed ladder: the recorded percents with the policy's windows, then 100%.
    const ladder = getDeployment(ctx.ledger, "r").policy.ladder;
    expect(ladder.map((l) => l.window ?? null)).toEqual(["10m", "10m", null]);
    expect(ladder.map((l) => Math.round(l.percent))).toEqual([3, 25, 100]);
    expect(r.note).toMatch(
      /which are not the policy's rungs: the replay used a ladder of the recorded percents/,
    );
    expect(steps(ctx).map(([kind, step]) => [kind, step])).toEqual([
      ["start", 0],
      ["promote", 1],
    ]);
    expect(r.final_step).toBe(1);
  });

  it("a recording whose share goes down cannot be followed", async () => {
    const ctx = await operationsContext();
    const e = await (async () => {
      try {
        await replayDeployment(ctx, {
          deploymentId: "r",
          policy: busyPolicy(),
          slices: recording({ minutes: 30, percentAt: (t) => (t < T0 + 15 * MIN ? 25 : 3) }),
          mode: "recorded",
        });
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(InvalidInputError);
    expect((e as InvalidInputError).field).toBe("--data");
    expect((e as Error).message).toMatch(
      /the recording's canary share goes down \(\d+(\.\d+)?% then \d+(\.\d+)?% at 2026-05-26T10:15:00.000Z\)/,
    );
  });

  it("a recording with no traffic to read percents from is refused", async () => {
    const ctx = await operationsContext();
    const slices = [
      { t: iso(T0), cohort: "canary" as const, moments: { size: { n: 1, sum: 1, sum_sq: 1 } } },
    ];
    await expect(
      replayDeployment(ctx, { deploymentId: "r", policy: busyPolicy(), slices, mode: "recorded" }),
    ).rejects.toThrow(/shows no canary and control traffic to read its percents from/);
  });
});

describe("replay's preconditions", () => {
  it("runs only on the manual clock and needs slices", async () => {
    const ctx = await operationsContext();
    await expect(
      replayDeployment({ ...ctx, clock: realClock }, { deploymentId: "r", policy: busyPolicy(), slices: [] }),
    ).rejects.toThrow("replay runs on the manual clock");
    await expect(
      replayDeployment(ctx, { deploymentId: "r", policy: busyPolicy(), slices: [] }),
    ).rejects.toThrow("no slices to replay");
  });
});

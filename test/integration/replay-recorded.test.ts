import { describe, expect, it } from "vitest";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { replayDeployment } from "../../mcp-server/controller/replay.js";
import type { Slice } from "../../mcp-server/core/slice.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { manualClock, type OperationContext } from "../../mcp-server/operations/context.js";
import { basicPolicy } from "../support/policies.js";
import { healthySliceLines } from "../support/slices.js";

const T0 = Date.UTC(2026, 4, 26, 10);

async function replayCtx(): Promise<OperationContext> {
  return {
    ledger: openLedger(":memory:", { clockMode: "manual" }),
    clock: manualClock,
    actor: "replay",
    assigner: await createAssigner(),
    readPolicyFile: () => "",
  };
}

/** A healthy recording made with the canary at a fixed 1% for three hours. */
function fixedPercentRecording(): Slice[] {
  return healthySliceLines({ startMs: T0, minutes: 180, means: { canary: 100, control: 9900 } }).map(
    (l) => JSON.parse(l) as Slice,
  );
}

const splitAlarms = (r: { timeline: { reason_codes: string[] }[] }) =>
  r.timeline.filter((t) => t.reason_codes.includes("srm")).length;

describe("replay of a recording made at fixed percents", () => {
  const policy = basicPolicy({ check_every: "5m" });

  it("driving the policy's own ladder judges 1% traffic against 5% and raises the split alarm", async () => {
    const r = await replayDeployment(await replayCtx(), {
      deploymentId: "r",
      policy,
      slices: fixedPercentRecording(),
    });
    expect(r.mode).toBe("ladder");
    expect(r.note).toMatch(/mode ladder/);
    expect(splitAlarms(r)).toBeGreaterThan(0);
  });

  it("following the recorded percents shows no split alarm, and says which percents it followed", async () => {
    const r = await replayDeployment(await replayCtx(), {
      deploymentId: "r",
      policy,
      slices: fixedPercentRecording(),
      mode: "recorded",
    });
    expect(r.mode).toBe("recorded");
    expect(r.recorded_levels).toHaveLength(1);
    expect(r.recorded_levels?.[0]).toMatchObject({ from: new Date(T0).toISOString(), rung: 0 });
    expect(r.recorded_levels?.[0]?.percent).toBeCloseTo(1, 0);
    expect(splitAlarms(r)).toBe(0);
    expect(r.looks).toBeGreaterThan(10);
    // Never promoted: the recording stayed at 1%.
    expect(r.final_percent).toBe(1);
    expect(r.note).toMatch(/mode recorded.*%, each a rung of the policy/);
  });

  it("follows a recording that moved from 1% to 5%, at the time it moved", async () => {
    const low = healthySliceLines({ startMs: T0, minutes: 60, means: { canary: 100, control: 9900 } });
    const high = healthySliceLines({
      startMs: T0 + 60 * 60_000,
      minutes: 60,
      means: { canary: 500, control: 9500 },
      seed: 9,
    });
    const slices = [...low, ...high].map((l) => JSON.parse(l) as Slice);
    const r = await replayDeployment(await replayCtx(), {
      deploymentId: "r",
      policy,
      slices,
      mode: "recorded",
    });
    expect(r.recorded_levels?.map((l) => [l.from, l.rung, Math.round(l.percent)])).toEqual([
      [new Date(T0).toISOString(), 0, 1],
      [new Date(T0 + 60 * 60_000).toISOString(), 1, 5],
    ]);
    expect(r.final_percent).toBe(5);
    expect(splitAlarms(r)).toBe(0);
  });
});

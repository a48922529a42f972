import { describe, expect, it } from "vitest";
import {
  countAbove,
  countsAbove,
  effectiveShift,
  quantileBoundIndex,
  RollingHistogram,
  shiftedBoundIndex,
  snapDown,
  snapUp,
  tailSamplesNeeded,
} from "../../../mcp-server/core/stats/exceedance.js";
import {
  histogramQuantile,
  histogramQuantileInterval,
  valueAtPosition,
} from "../../../mcp-server/core/stats/quantiles.js";
import { Random } from "../../support/random.js";

const BOUNDS = [10, 20, 30, 50, 100];

describe("interpolated percentiles from bucket counts", () => {
  it("interpolates linearly within the bucket", () => {
    // 10 samples in each of (0,10], (10,20], (20,30]: the median sits at 15.
    expect(histogramQuantile(BOUNDS, [10, 10, 10, 0, 0, 0], 0.5)).toEqual({ value: 15, openEnded: false });
    expect(histogramQuantile(BOUNDS, [10, 10, 10, 0, 0, 0], 0.9)?.value).toBeCloseTo(27, 12);
    // The first bucket starts at 0 for positive bounds.
    expect(histogramQuantile(BOUNDS, [10, 0, 0, 0, 0, 0], 0.5)?.value).toBe(5);
    expect(histogramQuantile([-5, 0, 5], [4, 0, 0, 0], 0.5)?.value).toBe(-5);
  });

  it("reports the last bound, flagged, for a percentile in the overflow bucket", () => {
    expect(histogramQuantile(BOUNDS, [1, 0, 0, 0, 0, 99], 0.99)).toEqual({ value: 100, openEnded: true });
    expect(histogramQuantile(BOUNDS, [0, 0, 0, 0, 0, 0], 0.5)).toBeNull();
  });

  it("reads positions at bucket edges", () => {
    expect(valueAtPosition(BOUNDS, [0, 5, 5, 0, 0, 0], 0).value).toBe(10);
    expect(valueAtPosition(BOUNDS, [0, 5, 5, 0, 0, 0], 10).value).toBe(30);
  });

  it("gives order-statistic intervals that cover the true percentile at their level", () => {
    // Values uniform on (0, 100] in buckets of 10: the true p90 is 90.
    const bounds = Array.from({ length: 10 }, (_, i) => 10 * (i + 1));
    let misses = 0;
    const runs = 400;
    for (let seed = 1; seed <= runs; seed++) {
      const rng = new Random(seed);
      const counts = new Array(11).fill(0);
      for (let i = 0; i < 200; i++) counts[Math.floor(rng.uniform() * 10)]++;
      const ci = histogramQuantileInterval(bounds, counts, 0.9, 0.9)!;
      if (!(ci.low <= 90 && ci.high >= 90)) misses++;
    }
    expect(misses / runs).toBeLessThanOrEqual(0.1 + 3 * Math.sqrt((0.1 * 0.9) / runs));
  });

  it("cannot bound the top of a tail percentile from too few samples", () => {
    const ci = histogramQuantileInterval(BOUNDS, [5, 5, 0, 0, 0, 0], 0.999, 0.95)!;
    expect(ci.highRank).toBeGreaterThan(10);
    expect(ci.high).toBe(20);
  });
});

describe("exceedance thresholds", () => {
  it("snaps targets to bounds on the conservative side", () => {
    expect(snapUp(BOUNDS, 20)).toBe(1);
    expect(snapUp(BOUNDS, 20.0000000001)).toBe(1); // float noise in c + delta
    expect(snapUp(BOUNDS, 21)).toBe(2);
    expect(snapUp(BOUNDS, 101)).toBe(-1);
    expect(snapDown(BOUNDS, 29)).toBe(1);
    expect(snapDown(BOUNDS, 5)).toBe(-1);
    // c = 20 with +15 (absolute): counted above 50 (the next bound), an effective tolerance of 30.
    const up = shiftedBoundIndex(BOUNDS, 20, { kind: "absolute", amount: 15 }, 1, "up");
    expect(BOUNDS[up]).toBe(50);
    expect(effectiveShift(20, BOUNDS[up]!, "absolute")).toBe(30);
    // Relative: 10% above 50 is 55, counted above 100; effective tolerance 100%.
    const rel = shiftedBoundIndex(BOUNDS, 50, { kind: "relative", amount: 0.1 }, 1, "up");
    expect(effectiveShift(50, BOUNDS[rel]!, "relative")).toBe(1);
  });

  it("puts the control's quantile on the top of its bucket", () => {
    const counts = [50, 40, 9, 1, 0, 0];
    expect(quantileBoundIndex(counts, 100, 0.5)).toBe(0); // exactly 50 at or below 10
    expect(quantileBoundIndex(counts, 100, 0.9)).toBe(1);
    expect(quantileBoundIndex(counts, 100, 0.99)).toBe(2);
    expect(quantileBoundIndex([0, 0, 0, 0, 0, 10], 10, 0.5)).toBe(-1);
    expect(quantileBoundIndex(counts, 0, 0.5)).toBe(-1);
  });

  it("counts samples above a bound", () => {
    const counts = [5, 4, 3, 2, 1, 7];
    expect(countAbove(counts, 0)).toBe(17);
    expect(countAbove(counts, 4)).toBe(7);
    expect(Array.from(countsAbove(counts, new Float64Array(5)))).toEqual([17, 13, 10, 8, 7]);
  });

  it("asks for 25 tail samples before judging a percentile", () => {
    expect(tailSamplesNeeded(0, 0.999)).toBe(25_000);
    expect(tailSamplesNeeded(10_000, 0.999)).toBe(15_000);
    expect(tailSamplesNeeded(2_500, 0.99)).toBe(0);
    expect(tailSamplesNeeded(2_499, 0.99)).toBe(1);
    expect(tailSamplesNeeded(40, 0.5)).toBe(10);
  });

  it("keeps the shortest window of earlier control slices with enough tail, within its limits", () => {
    const rolling = new RollingHistogram(3, { minSpanMs: 20, maxSpanMs: 60, q: 0.5, tailTarget: 2 });
    rolling.add(0, Float64Array.from([1, 2, 3]));
    rolling.add(10, Float64Array.from([1, 1, 1]));
    rolling.add(20, Float64Array.from([2, 2, 2]));
    // At 30 the slice from 0 is older than the 20-minute minimum and the rest hold 9 samples
    // (4.5 beyond the median >= 2): it goes; the one from 10 is inside the minimum and stays.
    rolling.advance(30);
    expect(Array.from(rolling.sum)).toEqual([3, 3, 3]);
    // Nothing is kept beyond the maximum span.
    rolling.advance(100);
    expect(rolling.total).toBe(0);
    // With too little tail the window reaches back to its maximum.
    const sparse = new RollingHistogram(3, { minSpanMs: 5, maxSpanMs: 60, q: 0.9, tailTarget: 10 });
    for (let t = 0; t < 50; t += 10) sparse.add(t, Float64Array.from([1, 0, 0]));
    sparse.advance(50);
    expect(sparse.total).toBe(5);
  });
});

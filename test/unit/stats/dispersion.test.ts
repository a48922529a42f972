import { describe, expect, it } from "vitest";
import { ShareDispersion } from "../../../mcp-server/core/stats/dispersion.js";
import { Random } from "../../support/random.js";

// The dispersion of the canary's share of events: near 1 for independent events whatever the
// shared rate does or the true ratio is, near E[S^2] / E[S] when events come in bursts of size S.

interface Options {
  slices: number;
  /** Total events per slice in both cohorts, on average. */
  events: number;
  share: number;
  ratio?: number;
  /** Bursts: one failure plus Geometric(mean) retries, all in the failing request's cohort. */
  retryMean?: number;
  /** Shared per-slice swings of the rate: Gamma(shape) around 1. */
  sharedShape?: number;
}

function estimate(seed: number, o: Options): number {
  const rng = new Random(seed);
  const d = new ShareDispersion();
  const ratio = o.ratio ?? 1;
  const canaryWeight = (o.share * ratio) / (o.share * ratio + 1 - o.share);
  const burst = o.retryMean ?? 0;
  for (let k = 0; k < o.slices; k++) {
    const swing = o.sharedShape ? rng.gamma(o.sharedShape) / o.sharedShape : 1;
    const failures = rng.poisson((o.events * swing) / (1 + burst));
    let xT = 0;
    let m = 0;
    for (let i = 0; i < failures; i++) {
      const size = 1 + (burst > 0 ? rng.poisson(rng.gamma(1) * burst) : 0);
      if (rng.uniform() < canaryWeight) xT += size;
      m += size;
    }
    d.add(xT, m, o.share / (1 - o.share));
  }
  return d.value();
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * The estimate after `quiet` slices without a canary event and then one with `events`, at 0.3
 * expected canary events a slice (30 events in both cohorts, 1% canary: 1% of 100 rps at 0.5% errors).
 */
function afterQuietSlices(quiet: number, events: number): number {
  const d = new ShareDispersion();
  for (let k = 0; k < quiet; k++) d.add(0, 30, 0.0101);
  d.add(events, 30 + events, 0.0101);
  return d.value();
}

describe("ShareDispersion", () => {
  const runs = (o: Options) => Array.from({ length: 40 }, (_, i) => estimate(1000 + i, o));

  it("stays near 1 for independent events, even when a shared rate swings or the canary is worse", () => {
    for (const o of [
      { slices: 60, events: 300, share: 0.05 },
      { slices: 60, events: 300, share: 0.05, sharedShape: 5 },
      { slices: 60, events: 300, share: 0.25, ratio: 2 },
    ]) {
      expect(median(runs(o))).toBeLessThan(1.2);
    }
  });

  it("finds bursts of retries: about E[S^2] / E[S] = 5 for one failure plus Geometric(mean 2) retries", () => {
    const values = runs({ slices: 120, events: 300, share: 0.25, retryMean: 2 });
    expect(median(values)).toBeGreaterThan(3.5);
    expect(median(values)).toBeLessThan(6.5);
  });

  it("weighs a single burst at once: the slice that carries it raises the estimate", () => {
    const d = new ShareDispersion();
    for (let k = 0; k < 10; k++) d.add(3, 300, 0.0101);
    const before = d.value();
    d.add(15, 312, 0.0101);
    expect(before).toBe(1);
    expect(d.value()).toBeGreaterThan(3);
  });

  it("barely moves for a stray event when events are rare, and still moves for a burst", () => {
    // 0.3 canary events expected a slice (1% of 100 rps at 0.5% errors): the prior counts for
    // DISPERSION_PRIOR_RARE / 0.3 units, so two events in one slice read as little as two
    // events do where many are expected, while eight at once still weigh the slice down.
    expect(afterQuietSlices(2, 2)).toBeLessThan(1.2);
    expect(afterQuietSlices(2, 8)).toBeGreaterThan(3);
  });

  it("reads a stray event as none when events are rare: the estimate's own noise is taken out", () => {
    // Ten quiet slices, then two canary events where 0.3 are expected: on independent events the
    // Pearson ratio swings this far by chance alone, so the excess falls inside the noise band and
    // the tests keep their full power; eight at once are far past it and still count.
    expect(afterQuietSlices(10, 2)).toBe(1);
    expect(afterQuietSlices(10, 8)).toBeGreaterThan(3);
  });

  it("still weighs a burst where almost no events are expected: the prior is bounded", () => {
    // 0.03 canary events expected a slice (1% of 10 rps): unbounded, the prior would be about 170
    // units and a failure with its retries (five events) would leave the estimate near 1.
    const d = new ShareDispersion();
    for (let k = 0; k < 10; k++) d.add(0, 3, 0.0101);
    d.add(5, 8, 0.0101);
    expect(d.value()).toBeGreaterThan(2);
  });

  it("is never below 1", () => {
    const d = new ShareDispersion();
    for (let k = 0; k < 50; k++) d.add(10, 1000, 0.0101);
    expect(d.value()).toBe(1);
  });
});

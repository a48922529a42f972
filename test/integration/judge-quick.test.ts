import { describe, expect, it } from "vitest";
import { mannWhitneyShift } from "../bench/judge/judges/mann-whitney.js";
import {
  BASE_LATENCY,
  drawLatencyCounts,
  histogramQuantile,
  LATENCY_BOUNDS,
} from "../bench/judge/latency.js";
import { Rng } from "../bench/judge/rng.js";
import { runBenchmark, selectScenarios } from "../bench/judge/runner.js";
import type { CellSummary } from "../bench/judge/summary.js";

// A small run of the judge benchmark through the same code as `npm run bench:judge`, with loose,
// honest bounds: enough replicates to catch a judge that is broken, not to quote figures (the full
// run in docs/judge-benchmark.md does that).

function cell(all: readonly CellSummary[], scenario: string, judge: string): CellSummary {
  const c = all.find((s) => s.scenario === scenario && s.judge === judge);
  if (!c) throw new Error(`no cell ${scenario} / ${judge}`);
  return c;
}

describe("simulator building blocks", () => {
  it("draws Poisson and Gamma variables with the right mean and variance", () => {
    const rng = new Rng(7);
    for (const mean of [0.3, 4, 25, 600]) {
      const n = 20_000;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const k = rng.poisson(mean);
        s += k;
        s2 += k * k;
      }
      const m = s / n;
      const v = s2 / n - m * m;
      expect(Math.abs(m - mean)).toBeLessThan(5 * Math.sqrt(mean / n));
      expect(v / mean).toBeGreaterThan(0.93);
      expect(v / mean).toBeLessThan(1.07);
    }
    let g = 0;
    for (let i = 0; i < 20_000; i++) g += rng.gamma(5, 0.2);
    expect(Math.abs(g / 20_000 - 1)).toBeLessThan(0.02);
  });

  it("is reproducible from its key", () => {
    const a = Rng.forKey([1, 2, 3]);
    const b = Rng.forKey([1, 2, 3]);
    expect([a.uniform(), a.uniform()]).toEqual([b.uniform(), b.uniform()]);
    expect(Rng.forKey([1, 2, 4]).uniform()).not.toBe(Rng.forKey([1, 2, 3]).uniform());
  });

  it("puts the simulated latency's median near 50 ms and p99 near 255 ms", () => {
    const counts = drawLatencyCounts(new Rng(3), 1_000_000, BASE_LATENCY);
    expect(counts).toHaveLength(LATENCY_BOUNDS.length + 1);
    expect(histogramQuantile(counts, 0.5)).toBeGreaterThan(46);
    expect(histogramQuantile(counts, 0.5)).toBeLessThan(54);
    expect(histogramQuantile(counts, 0.99)).toBeGreaterThan(235);
    expect(histogramQuantile(counts, 0.99)).toBeLessThan(275);
  });

  it("recovers a location shift with the Mann-Whitney interval", () => {
    const rng = new Rng(11);
    const y = Array.from({ length: 40 }, () => rng.normal());
    const x = Array.from({ length: 40 }, () => rng.normal() + 2);
    const r = mannWhitneyShift(x, y, 0.98);
    expect(r.lower).toBeLessThan(2);
    expect(r.upper).toBeGreaterThan(2);
    expect(r.lower).toBeGreaterThan(1);
    expect(Math.abs(r.estimate - 2)).toBeLessThan(0.5);
  });
});

describe("judge benchmark, quick", () => {
  it("ours rolls back fewer A/A deployments than the naive z-test, and few of them", async () => {
    const summaries = await runBenchmark({
      aaReplicates: 30,
      regressionReplicates: 0,
      scenarios: selectScenarios(["aa-drift"]),
      traffic: [1_000],
      looks: [15],
      seed: 1,
      judges: ["ours", "naive-z"],
      workers: 0,
    });
    const ours = cell(summaries, "aa-drift", "ours");
    const naive = cell(summaries, "aa-drift", "naive-z");
    expect(ours.replicates).toBe(30);
    // alpha is 0.05 for the whole deployment; 3 of 30 would already be far above it.
    expect(ours.rollbacks).toBeLessThanOrEqual(2);
    expect(ours.rollbackRate).toBeLessThan(naive.rollbackRate);
  });

  it("ours detects a x5 error regression at 100 rps", async () => {
    const summaries = await runBenchmark({
      aaReplicates: 0,
      regressionReplicates: 20,
      scenarios: selectScenarios(["err-x5"]),
      traffic: [100],
      looks: [15],
      seed: 2,
      judges: ["ours"],
      workers: 0,
    });
    const ours = cell(summaries, "err-x5", "ours");
    expect(ours.detections).toBeGreaterThanOrEqual(18);
    expect(ours.stageAtRollback["1"] ?? 0).toBeGreaterThanOrEqual(16);
  });
});

import { describe, expect, it } from "vitest";
import {
  LogLikelihoods,
  RATIO_GRID_LOG,
  RATIO_GRID_SIZE,
  RatioConfidenceSequence,
  RatioTest,
  RatioTestPool,
  RestartingRatioEvidence,
  ratioConfidenceSequence,
  trialsToThreshold,
} from "../../../mcp-server/core/stats/ratio-evidence.js";
import { Random } from "../../support/random.js";

const pi = (nT: number, nC: number, r: number) => (nT * r) / (nT * r + nC);

/** The mixture e-value written out term by term, straight from docs/statistics.md. */
function directEvidence(
  slices: { xT: number; xC: number; nT: number; nC: number }[],
  r0: number,
  above: boolean,
): number {
  let sum = 0;
  for (let g = 0; g < RATIO_GRID_SIZE; g++) {
    const factor = Math.exp(RATIO_GRID_LOG[g]!);
    const a = above ? r0 * factor : r0 / factor;
    let prod = 1;
    for (const s of slices) {
      const p0 = pi(s.nT, s.nC, r0);
      const p1 = pi(s.nT, s.nC, a);
      prod *= (p1 / p0) ** s.xT * ((1 - p1) / (1 - p0)) ** s.xC;
    }
    sum += prod / RATIO_GRID_SIZE;
  }
  return sum;
}

function feed(
  state: LogLikelihoods,
  test: RatioTest,
  slices: { xT: number; xC: number; nT: number; nC: number }[],
): void {
  for (const s of slices) {
    test.prepare(s.nT / s.nC);
    state.add(test, s.xT, s.xT + s.xC);
  }
}

describe("the grid", () => {
  it("has 40 log-spaced alternatives from 1.05 to 10", () => {
    expect(RATIO_GRID_SIZE).toBe(40);
    expect(Math.exp(RATIO_GRID_LOG[0]!)).toBeCloseTo(1.05, 12);
    expect(Math.exp(RATIO_GRID_LOG[39]!)).toBeCloseTo(10, 12);
    const steps = new Set(
      Array.from({ length: 39 }, (_, g) => (RATIO_GRID_LOG[g + 1]! - RATIO_GRID_LOG[g]!).toFixed(12)),
    );
    expect(steps.size).toBe(1);
  });
});

describe("conditional-binomial mixture e-value", () => {
  const slices = [
    { xT: 3, xC: 250, nT: 1000, nC: 99000 },
    { xT: 7, xC: 240, nT: 1100, nC: 98000 },
    { xT: 0, xC: 260, nT: 900, nC: 99500 },
    { xT: 12, xC: 1000, nT: 25000, nC: 75000 },
  ];

  it("matches the formula for the harm test (null 1 + d, alternatives above)", () => {
    for (const r0 of [1, 1.2]) {
      const test = new RatioTest(r0, "above");
      const state = new LogLikelihoods();
      feed(state, test, slices);
      const expected = directEvidence(slices, r0, true);
      expect(Math.abs(Math.exp(state.logEvidence()) / expected - 1)).toBeLessThan(1e-12);
    }
  });

  it("matches the formula for the non-inferiority mirror (null 1 + m, alternatives below)", () => {
    const test = new RatioTest(1.5, "below");
    const state = new LogLikelihoods();
    feed(state, test, slices);
    expect(Math.abs(Math.exp(state.logEvidence()) / directEvidence(slices, 1.5, false) - 1)).toBeLessThan(
      1e-12,
    );
  });

  it("is 1 before any data and for slices without events", () => {
    const test = new RatioTest(1, "above");
    const state = new LogLikelihoods();
    expect(state.logEvidence()).toBeCloseTo(0, 14);
    feed(state, test, [{ xT: 0, xC: 0, nT: 10, nC: 1000 }]);
    expect(state.logEvidence()).toBeCloseTo(0, 14);
  });

  it("grows with canary events and shrinks with control events", () => {
    const e = (xT: number, xC: number) => {
      const state = new LogLikelihoods();
      feed(state, new RatioTest(1, "above"), [{ xT, xC, nT: 1000, nC: 1000 }]);
      return state.logEvidence();
    };
    expect(e(30, 10)).toBeGreaterThan(e(20, 10));
    expect(e(20, 10)).toBeGreaterThan(e(20, 20));
  });

  it("restarting with a single weight is the plain mixture, and restarts start at 1", () => {
    const test = new RatioTest(1, "above");
    const plain = new LogLikelihoods();
    const restarting = new RestartingRatioEvidence(test, [1]);
    restarting.begin(0);
    for (const s of slices) {
      test.prepare(s.nT / s.nC);
      plain.add(test, s.xT, s.xT + s.xC);
      restarting.add(s.xT, s.xT + s.xC);
    }
    expect(restarting.logEvidence()).toBeCloseTo(plain.logEvidence(), 12);

    // Weights 3/4 and 1/4 (any fixed weights): before step 1 starts its restart counts as 1.
    const two = new RestartingRatioEvidence(new RatioTest(1, "above"), [0.75, 0.25]);
    two.begin(0);
    const first = slices[0]!;
    two.test.prepare(first.nT / first.nC);
    two.add(first.xT, first.xT + first.xC);
    const one = new LogLikelihoods();
    feed(one, new RatioTest(1, "above"), [first]);
    expect(Math.exp(two.logEvidence())).toBeCloseTo(0.75 * Math.exp(one.logEvidence()) + 0.25, 12);
    // After step 1 begins, restart 1 sees only later slices.
    two.begin(1);
    const second = slices[1]!;
    two.test.prepare(second.nT / second.nC);
    two.add(second.xT, second.xT + second.xC);
    const both = new LogLikelihoods();
    feed(both, new RatioTest(1, "above"), [first, second]);
    const late = new LogLikelihoods();
    feed(late, new RatioTest(1, "above"), [second]);
    expect(Math.exp(two.logEvidence())).toBeCloseTo(
      0.75 * Math.exp(both.logEvidence()) + 0.25 * Math.exp(late.logEvidence()),
      12,
    );
  });

  it("shares tests with the same null and side through the pool", () => {
    const pool = new RatioTestPool();
    expect(pool.get(1, "above")).toBe(pool.get(1, "above"));
    expect(pool.get(1, "above")).not.toBe(pool.get(1, "below"));
    expect(pool.get(1.5, "below")).not.toBe(pool.get(1, "below"));
  });
});

describe("validity under the null (Ville's inequality)", () => {
  // Identical cohorts, the canary's share moving 1% -> 5% -> 25% -> 50% and the base rate drifting
  // 0.3% -> 0.7% over 4 h: stratification keeps the e-process honest. 300 seeds, 1-minute slices,
  // threshold 1/alpha = 20 checked after every slice.
  it("rarely crosses 1/alpha on A/A data with drift and a moving share", () => {
    const seeds = 300;
    let crossed = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const rng = new Random(seed);
      const evidence = new RestartingRatioEvidence(new RatioTest(1, "above"), [0.75, 1 / 12, 1 / 12, 1 / 12]);
      for (let minute = 0; minute < 240; minute++) {
        const step = Math.floor(minute / 60);
        evidence.begin(step);
        const share = [0.01, 0.05, 0.25, 0.5][step]!;
        const rate = 0.003 + (0.004 * minute) / 239;
        const nT = rng.poisson(100 * 60 * share);
        const nC = rng.poisson(100 * 60 * (1 - share));
        const xT = rng.binomial(nT, rate);
        const xC = rng.binomial(nC, rate);
        if (nT > 0 && nC > 0 && xT + xC > 0) {
          evidence.test.prepare(nT / nC);
          evidence.add(xT, xT + xC);
        }
        evidence.look();
      }
      if (evidence.logMax >= Math.log(20)) crossed++;
    }
    const alpha = 0.05;
    expect(crossed / seeds).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / seeds));
  });
});

describe("confidence sequence for the rate ratio", () => {
  it("brackets the estimate and agrees with the two tests at its ends", () => {
    const slices = [
      { xT: 40, m: 240, rho: 0.2 },
      { xT: 35, m: 230, rho: 0.2 },
      { xT: 50, m: 260, rho: 0.21 },
    ];
    const cs = ratioConfidenceSequence(slices, 100, 20);
    // Pooled estimate: canary events per canary trial over control's.
    const xT = 125;
    const xC = 730 - 125;
    const estimate = xT / 0.2033 / xC;
    expect(cs.low).toBeLessThan(estimate);
    expect(cs.high).not.toBeNull();
    expect(cs.high!).toBeGreaterThan(estimate);
    // At the lower end the harm-side test with that null is right at its threshold.
    const at = (r0: number, side: "above" | "below") => {
      const test = new RatioTest(r0, side);
      const state = new LogLikelihoods();
      for (const s of slices) {
        test.prepare(s.rho);
        state.add(test, s.xT, s.m);
      }
      return state.logEvidence();
    };
    expect(Math.abs(at(cs.low, "above") - Math.log(100))).toBeLessThan(0.05);
    expect(Math.abs(at(cs.high!, "below") - Math.log(20))).toBeLessThan(0.05);
  });

  it("is unbounded without events", () => {
    expect(ratioConfidenceSequence([{ xT: 0, m: 0, rho: 0.1 }], 20, 20)).toEqual({ low: 0, high: null });
  });

  it("covers the true ratio in at least 1 - alpha of the runs", () => {
    let misses = 0;
    const runs = 200;
    for (let seed = 1; seed <= runs; seed++) {
      const rng = new Random(1000 + seed);
      const slices = [];
      for (let k = 0; k < 30; k++) {
        const nT = rng.poisson(300);
        const nC = rng.poisson(5700);
        const xT = rng.binomial(nT, 0.015);
        const xC = rng.binomial(nC, 0.01);
        if (nT > 0 && nC > 0 && xT + xC > 0) slices.push({ xT, m: xT + xC, rho: nT / nC });
      }
      const cs = ratioConfidenceSequence(slices, 20, 20);
      if (!(cs.low <= 1.5 && (cs.high === null || cs.high >= 1.5))) misses++;
    }
    expect(misses / runs).toBeLessThanOrEqual(0.1 + 3 * Math.sqrt((0.1 * 0.9) / runs));
  });
});

describe("the confidence sequence kept across looks", () => {
  /** A step's slices at various traffic, shares and effects (fixed seeds). */
  function steps(): { slices: { xT: number; m: number; rho: number }[]; temper: number }[] {
    const out = [];
    for (let seed = 1; seed <= 24; seed++) {
      const rng = new Random(500 + seed);
      const share = [0.01, 0.05, 0.25, 0.5][seed % 4]!;
      const rate = [0.002, 0.02, 0.2][seed % 3]!;
      const ratio = [1, 1.4, 3, 0.6][seed % 4]!;
      const traffic = [600, 6000, 60000][seed % 3]!;
      const slices = [];
      for (let k = 0; k < 60; k++) {
        const nT = rng.poisson(traffic * share);
        const nC = rng.poisson(traffic * (1 - share));
        const xT = rng.poisson(nT * rate * ratio);
        const xC = rng.poisson(nC * rate);
        if (nT > 0 && nC > 0 && xT + xC > 0) slices.push({ xT, m: xT + xC, rho: nT / nC });
      }
      out.push({ slices, temper: seed % 5 === 0 ? 1.7 : 1 });
    }
    return out;
  }
  /** The exact log e-value of "ratio <= r0" (above) or "ratio >= r0" (below), events weighed by 1 / temper. */
  const exactLogEvidence = (
    slices: { xT: number; m: number; rho: number }[],
    r0: number,
    side: "above" | "below",
    temper: number,
  ) => {
    const test = new RatioTest(r0, side);
    const state = new LogLikelihoods();
    for (const s of slices) {
      test.prepare(s.rho);
      state.add(test, s.xT / temper, s.m / temper);
    }
    return state.logEvidence();
  };

  it("gives at every look exactly what a search over all the step's slices gives", () => {
    for (const { slices, temper } of steps()) {
      const kept = new RatioConfidenceSequence();
      for (let k = 0; k < slices.length; k++) {
        kept.add(slices[k]!.xT, slices[k]!.m, slices[k]!.rho);
        const fresh = new RatioConfidenceSequence();
        for (const s of slices.slice(0, k + 1)) fresh.add(s.xT, s.m, s.rho);
        expect(kept.interval(40, 20, temper)).toEqual(fresh.interval(40, 20, temper));
      }
    }
  });

  it("ends where the exact tests reject, within 0.1% of the ratio where they stop rejecting", () => {
    let ends = 0;
    for (const { slices, temper } of steps()) {
      const cs = new RatioConfidenceSequence();
      for (const s of slices) cs.add(s.xT, s.m, s.rho);
      const { low, high } = cs.interval(40, 20, temper);
      if (low > 0) {
        ends++;
        expect(exactLogEvidence(slices, low, "above", temper)).toBeGreaterThanOrEqual(Math.log(40));
        expect(exactLogEvidence(slices, low * 1.001, "above", temper)).toBeLessThan(Math.log(40));
      }
      if (high !== null) {
        ends++;
        expect(exactLogEvidence(slices, high, "below", temper)).toBeGreaterThanOrEqual(Math.log(20));
        expect(exactLogEvidence(slices, high / 1.001, "below", temper)).toBeLessThan(Math.log(20));
      }
    }
    expect(ends).toBeGreaterThan(30);
  });
});

describe("trials until the threshold", () => {
  it("solves the mixture for the sample size", () => {
    const perTrial = new Float64Array(RATIO_GRID_SIZE).map((_, g) => 0.001 * (g - 10));
    const n = trialsToThreshold(perTrial, 20)!;
    let sum = 0;
    for (const c of perTrial) sum += Math.exp(n * c) / RATIO_GRID_SIZE;
    expect(Math.abs(Math.log(sum) - Math.log(20))).toBeLessThan(1e-9);
    expect(trialsToThreshold(new Float64Array(RATIO_GRID_SIZE).fill(-0.1), 20)).toBeNull();
  });

  it("counts from evidence already gathered, good or bad", () => {
    const perTrial = new Float64Array(RATIO_GRID_SIZE).map((_, g) => 0.001 * (g - 10));
    const behind = new Float64Array(RATIO_GRID_SIZE).fill(-2);
    const n = trialsToThreshold(perTrial, 20, behind)!;
    let sum = 0;
    for (let g = 0; g < RATIO_GRID_SIZE; g++)
      sum += Math.exp(behind[g]! + n * perTrial[g]!) / RATIO_GRID_SIZE;
    expect(Math.abs(Math.log(sum) - Math.log(20))).toBeLessThan(1e-9);
    expect(n).toBeGreaterThan(trialsToThreshold(perTrial, 20)!);
    expect(trialsToThreshold(perTrial, 20, new Float64Array(RATIO_GRID_SIZE).fill(4))).toBe(0);
  });
});

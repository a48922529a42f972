import { describe, expect, it } from "vitest";
import { type Policy, policySchema } from "../../../mcp-server/core/policy/schema.js";
import {
  harmGridLogWeights,
  harmThreshold,
  looksOften,
  marginThreshold,
  percentileLabel,
  restartWeights,
  rollbackTestCount,
  splitThreshold,
  statisticsOf,
} from "../../../mcp-server/core/stats/budget.js";
import {
  logOneSidedMixture,
  MeanDifferenceSums,
  meanConfidenceSequence,
  meanSamplesToThreshold,
  PooledVariance,
  RestartingMeanEvidence,
  sampleVariance,
} from "../../../mcp-server/core/stats/mean-evidence.js";
import { normalCdf } from "../../../mcp-server/core/stats/numeric.js";
import { sampleQuantile, shrinkRates } from "../../../mcp-server/core/stats/shrinkage.js";
import { SplitEvidence } from "../../../mcp-server/core/stats/split-evidence.js";
import { Random } from "../../support/random.js";

describe("normal-mixture test for means", () => {
  it("matches the one-sided mixture formula", () => {
    const [d, v, tau] = [0.8, 0.09, 0.5];
    const z = (tau * d) / Math.sqrt(v * (v + tau * tau));
    const expected = 2 * normalCdf(z) * Math.exp((z * z) / 2) * Math.sqrt(v / (v + tau * tau));
    expect(Math.exp(logOneSidedMixture(d, v, tau, "above"))).toBeCloseTo(expected, 12);
  });

  it("splits Johari's two-sided mixture into its halves", () => {
    const [d, v, tau] = [-0.3, 0.04, 0.2];
    const two = Math.sqrt(v / (v + tau * tau)) * Math.exp((tau * tau * d * d) / (2 * v * (v + tau * tau)));
    const sum =
      Math.exp(logOneSidedMixture(d, v, tau, "above")) + Math.exp(logOneSidedMixture(d, v, tau, "below"));
    expect(sum / 2).toBeCloseTo(two, 12);
  });

  it("puts the confidence sequence's ends where the two-sided mixture reaches its threshold", () => {
    const [d, v, tau] = [1.5, 0.2, 1];
    const cs = meanConfidenceSequence(d, v, tau, 20);
    const lambda = (theta: number) =>
      Math.sqrt(v / (v + tau * tau)) * Math.exp((tau * tau * (d - theta) ** 2) / (2 * v * (v + tau * tau)));
    expect(lambda(cs.low)).toBeCloseTo(20, 8);
    expect(lambda(cs.high)).toBeCloseTo(20, 8);
  });

  it("computes variances from n, sum and sum of squares and pools them", () => {
    expect(sampleVariance(3, 6, 14)).toBeCloseTo(1, 12); // 1, 2, 3
    expect(sampleVariance(1, 5, 25)).toBe(0);
    const pooled = new PooledVariance();
    pooled.add(3, 6, 14);
    pooled.add(1, 100, 10_000); // n < 2: no variance of its own
    pooled.add(3, 15, 77); // 4, 5, 6 -> 1
    expect(pooled.value()).toBeCloseTo(1, 12);
  });

  it("weights slices by n_T n_C / (n_T + n_C) and uses the pool for single samples", () => {
    const sums = new MeanDifferenceSums();
    const spec = { scale: 1, shift: 0, direction: "above" as const };
    sums.add(spec, { nT: 1, sumT: 5, sumSqT: 25, nC: 1, sumC: 4, sumSqC: 16 });
    expect(sums.estimate(null, null)).toBeNull();
    const est = sums.estimate(2, 3)!;
    expect(est.d).toBeCloseTo(1, 12);
    expect(est.v).toBeCloseTo(2 + 3, 12); // h = 1/2: (h^2 (2/1 + 3/1)) / h^2
  });

  function simulate(seed: number, shift: number): number {
    const rng = new Random(seed);
    const evidence = new RestartingMeanEvidence({ scale: 1, shift: 0, direction: "above" }, [1]);
    evidence.begin(0);
    const pooledT = new PooledVariance();
    const pooledC = new PooledVariance();
    for (let k = 0; k < 120; k++) {
      const draw = (n: number, mu: number) => {
        let sum = 0;
        let sumSq = 0;
        for (let i = 0; i < n; i++) {
          const x = mu + 10 * rng.normal();
          sum += x;
          sumSq += x * x;
        }
        return { n, sum, sumSq };
      };
      const t = draw(5, 100 + shift);
      const c = draw(95, 100);
      pooledT.add(t.n, t.sum, t.sumSq);
      pooledC.add(c.n, c.sum, c.sumSq);
      evidence.add({ nT: t.n, sumT: t.sum, sumSqT: t.sumSq, nC: c.n, sumC: c.sum, sumSqC: c.sumSq });
      // A look after every slice: the hardest case for the false-alarm rate.
      evidence.look(2, pooledT.value(), pooledC.value());
    }
    return evidence.logMax;
  }

  it("rarely crosses 1/alpha when the means are equal, and finds a real shift", () => {
    const runs = 200;
    let false_ = 0;
    for (let seed = 1; seed <= runs; seed++) if (simulate(seed, 0) >= Math.log(20)) false_++;
    expect(false_ / runs).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / runs));
    let found = 0;
    for (let seed = 1; seed <= 50; seed++) if (simulate(seed, 3) >= Math.log(20)) found++;
    expect(found).toBeGreaterThanOrEqual(45);
  });

  it("estimates the samples a margin still needs", () => {
    // Canary matching control, margin 2: the difference sits 2 below the null.
    const n = meanSamplesToThreshold(2, 4, 2, "above", 100, 20)!;
    expect(n).toBeGreaterThan(0);
    const v = 4 / ((100 + n) / 100);
    expect(logOneSidedMixture(2, v, 2, "above")).toBeGreaterThanOrEqual(Math.log(20) - 1e-6);
    expect(meanSamplesToThreshold(-1, 4, 2, "above", 100, 20)).toBeNull();
  });
});

describe("split check", () => {
  it("stays quiet on a healthy split and flags a share off by more than 20%", () => {
    const rng = new Random(5);
    const healthy = new SplitEvidence();
    const broken = new SplitEvidence();
    for (let k = 0; k < 60; k++) {
      const n = rng.poisson(6000);
      const good = rng.binomial(n, 0.05);
      healthy.add(good, n - good, 0.05);
      const bad = rng.binomial(n, 0.1);
      broken.add(bad, n - bad, 0.05);
    }
    expect(healthy.logMax).toBeLessThan(Math.log(20));
    expect(broken.logMax).toBeGreaterThan(Math.log(20));
  });

  it("tolerates a share within 20% even with lots of data", () => {
    const rng = new Random(9);
    const e = new SplitEvidence();
    for (let k = 0; k < 120; k++) {
      const n = rng.poisson(600_000);
      const c = rng.binomial(n, 0.055); // 10% above the configured 5%
      e.add(c, n - c, 0.05);
    }
    expect(e.logMax).toBeLessThan(Math.log(20));
  });
});

function policy(extra: Record<string, unknown> = {}): Policy {
  return policySchema.parse({
    service: "svc",
    alpha: 0.05,
    ladder: [
      { percent: 1, window: "30m" },
      { percent: 5, window: "30m" },
      { percent: 25, window: "30m" },
      { percent: 100 },
    ],
    metrics: [
      {
        name: "errors",
        type: "ratio",
        events: "e",
        trials: "n",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 0.5 },
        dims: ["endpoint"],
      },
      {
        name: "latency",
        type: "histogram",
        series: "h",
        percentiles: [50, 99, 99.9],
        bad: "increase",
        tolerance: { absolute: 50 },
      },
      {
        name: "size",
        type: "mean",
        series: "s",
        bad: "increase",
        tolerance: { relative: 0.1 },
        critical: false,
      },
    ],
    ...extra,
  });
}

describe("alpha budget", () => {
  it("counts the critical statistics, each percentile as one", () => {
    const p = policy();
    expect(statisticsOf(p.metrics[1]!)).toEqual(["p50", "p99", "p99.9"]);
    expect(rollbackTestCount(p)).toBe(4);
    expect(percentileLabel(99.9)).toBe("p99.9");
  });

  it("gives each rollback test alpha / M and splits a segmented metric's share", () => {
    const p = policy();
    expect(harmThreshold(p, p.metrics[1]!, false)).toBeCloseTo(80, 12);
    // errors has dims: half for the whole cohort, half over 1 dim x 50 segments.
    expect(harmThreshold(p, p.metrics[0]!, false)).toBeCloseTo(160, 12);
    expect(harmThreshold(p, p.metrics[0]!, true)).toBeCloseTo(8000, 9);
    expect(marginThreshold(p)).toBeCloseTo(20, 12);
    expect(splitThreshold(p)).toBeCloseTo(20, 12);
  });

  it("spreads the restarts' weights over the canary steps", () => {
    const w = restartWeights(policy());
    expect(w).toHaveLength(3);
    expect(w[0]).toBe(0.9);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
  });

  it("weighs the harm grid where regressions are only when the policy looks at least every 5 minutes", () => {
    // The default check_every (15m): even weights, 0.9 on the whole deployment.
    expect(looksOften(policy())).toBe(false);
    expect(harmGridLogWeights(policy())).toBeNull();
    expect(harmGridLogWeights(policy({ check_every: "6m" }))).toBeNull();
    for (const every of ["5m", "1m", "30s"]) {
      const p = policy({ check_every: every });
      expect(looksOften(p)).toBe(true);
      expect(harmGridLogWeights(p)).not.toBeNull();
      const w = restartWeights(p);
      expect(w[0]).toBe(0.97);
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
    }
  });
});

describe("segment shrinkage", () => {
  it("shrinks to the pooled rate when segments differ no more than noise", () => {
    const shrunk = shrinkRates([
      { events: 10, trials: 1000 },
      { events: 12, trials: 1000 },
      { events: 9, trials: 1000 },
    ]);
    for (const r of shrunk) expect(r).toBeCloseTo(31 / 3000, 12);
  });

  it("keeps real differences and pulls small segments harder", () => {
    const shrunk = shrinkRates([
      { events: 10, trials: 10_000 },
      { events: 500, trials: 10_000 },
      { events: 5, trials: 100 },
      { events: 100, trials: 10_000 },
    ]);
    expect(shrunk[1]!).toBeGreaterThan(0.04);
    expect(shrunk[0]!).toBeLessThan(0.002);
    const pooled = 615 / 30_100;
    expect(Math.abs(shrunk[2]! - pooled)).toBeLessThan(Math.abs(0.05 - pooled));
  });

  it("takes type-7 sample quantiles", () => {
    expect(sampleQuantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(sampleQuantile([5], 0.99)).toBe(5);
    expect(sampleQuantile([], 0.5)).toBeNull();
  });
});

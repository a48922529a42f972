import { describe, expect, it } from "vitest";
import { compareMetrics, createJudge } from "../../../mcp-server/core/compare/index.js";
import type { JudgeContext } from "../../../mcp-server/core/deployment.js";
import { policySchema } from "../../../mcp-server/core/policy/schema.js";
import { HarmRatioEvidence, PluginRatioEvidence } from "../../../mcp-server/core/stats/plugin-evidence.js";
import { RatioTest, RestartingRatioEvidence } from "../../../mcp-server/core/stats/ratio-evidence.js";
import { simulateDeployment } from "../../support/canary-sim.js";
import { Random } from "../../support/random.js";

// The predictable plug-in e-process behind the harm test experiment (docs/judge-benchmark.md
// "Round 3"): each slice bets on the ratio estimated from earlier slices only.

const pi = (rho: number, r: number) => (rho * r) / (1 + rho * r);

interface Slice {
  xT: number;
  xC: number;
  rho: number;
}

/** The plug-in e-value written out: a Mantel-Haenszel estimate of the slices before, pulled toward target. */
function directPlugin(slices: Slice[], r0: number, prior: number, target: number): number {
  let canary = 0;
  let control = 0;
  let e = 1;
  for (const s of slices) {
    const estimate = (canary + prior * r0 * target) / (control + prior);
    const a = Math.min(10 * r0, Math.max(r0, estimate));
    const p0 = pi(s.rho, r0);
    const p1 = pi(s.rho, a);
    e *= (p1 / p0) ** s.xT * ((1 - p1) / (1 - p0)) ** s.xC;
    canary += s.xT / (1 + s.rho);
    control += (s.xC * s.rho) / (1 + s.rho);
  }
  return e;
}

const slices: Slice[] = [
  { xT: 9, xC: 250, rho: 0.0101 },
  { xT: 4, xC: 240, rho: 0.0102 },
  { xT: 0, xC: 260, rho: 0.0099 },
  { xT: 30, xC: 800, rho: 0.33 },
];

function feed(e: PluginRatioEvidence, data: Slice[]): void {
  for (const s of data) e.add(s.xT, s.xT + s.xC, s.rho);
}

describe("predictable plug-in e-process", () => {
  it("matches the formula, for a null at the tolerance and an estimate pulled toward a target", () => {
    for (const [r0, prior, target] of [
      [1, 1, 1],
      [1.2, 4, 2],
      [1, 0.5, 3],
    ] as const) {
      const e = new PluginRatioEvidence(r0, "above", [1], { weight: 1, prior, target });
      e.begin(0);
      feed(e, slices);
      expect(Math.abs(Math.exp(e.logEvidence()) / directPlugin(slices, r0, prior, target) - 1)).toBeLessThan(
        1e-12,
      );
    }
  });

  it("never bets on the slice it is reading: a burst in the first slice leaves the evidence at 1", () => {
    // Pulled toward the null, the first bet is the null itself, so nothing the first slice holds counts.
    const e = new PluginRatioEvidence(1, "above", [1], { weight: 1, prior: 1, target: 1 });
    e.begin(0);
    e.add(40, 45, 0.01);
    expect(e.logEvidence()).toBe(0);
    // The next slice is read against the estimate the burst left behind.
    expect(e.alternative(0)).toBeGreaterThan(5);
    e.add(0, 30, 0.01);
    expect(e.logEvidence()).toBeLessThan(0);
  });

  it("bets only on the alternative side, up to 10 times the null", () => {
    const e = new PluginRatioEvidence(1.5, "above", [1], { weight: 1, prior: 1, target: 1 });
    e.begin(0);
    e.add(0, 500, 0.05);
    expect(e.alternative(0)).toBe(1.5);
    e.add(5000, 5000, 0.05);
    expect(e.alternative(0)).toBe(15);
    const below = new PluginRatioEvidence(1, "below", [1], { weight: 1, prior: 1, target: 2 });
    below.begin(0);
    expect(below.alternative(0)).toBe(0.5);
  });

  it("refuses a spec it cannot bet with", () => {
    const make = (spec: { weight: number; prior: number; target: number }) => () =>
      new HarmRatioEvidence(new RatioTest(1, "above"), [1], spec);
    expect(make({ weight: 1.5, prior: 1, target: 1 })).toThrow(/weight/);
    expect(make({ weight: 1, prior: 0, target: 1 })).toThrow(/prior/);
    expect(make({ weight: 1, prior: 1, target: 0.5 })).toThrow(/target/);
    expect(make({ weight: 1, prior: 1, target: Number.NaN })).toThrow(/target/);
  });

  it("restarts estimate from their own slices, and count as 1 until their step begins", () => {
    const e = new PluginRatioEvidence(1, "above", [0.75, 0.25], { weight: 1, prior: 1, target: 1 });
    e.begin(0);
    feed(e, slices.slice(0, 2));
    const whole = directPlugin(slices.slice(0, 2), 1, 1, 1);
    expect(Math.exp(e.logEvidence())).toBeCloseTo(0.75 * whole + 0.25, 12);
    e.begin(1);
    feed(e, slices.slice(2));
    expect(Math.exp(e.logEvidence())).toBeCloseTo(
      0.75 * directPlugin(slices, 1, 1, 1) + 0.25 * directPlugin(slices.slice(2), 1, 1, 1),
      12,
    );
  });

  it("blended with the mixture at a fixed weight is the weighted sum of the two", () => {
    const test = new RatioTest(1, "above");
    const spec = { weight: 0.3, prior: 2, target: 2 };
    const blend = new HarmRatioEvidence(test, [1], spec);
    const mixture = new RestartingRatioEvidence(new RatioTest(1, "above"), [1]);
    const plugin = new PluginRatioEvidence(1, "above", [1], spec);
    for (const x of [blend, mixture, plugin]) x.begin(0);
    for (const s of slices) {
      test.prepare(s.rho);
      mixture.test.prepare(s.rho);
      blend.add(s.xT, s.xT + s.xC, s.rho);
      mixture.add(s.xT, s.xT + s.xC);
      plugin.add(s.xT, s.xT + s.xC, s.rho);
    }
    const expected = 0.7 * Math.exp(mixture.logEvidence(1.3)) + 0.3 * Math.exp(plugin.logEvidence(1.3));
    expect(Math.exp(blend.logEvidence(1.3)) / expected).toBeCloseTo(1, 12);
    // Without a plug-in it is the mixture itself.
    const alone = new HarmRatioEvidence(new RatioTest(1, "above"), [1], null);
    alone.begin(0);
    for (const s of slices) {
      alone.mixture.test.prepare(s.rho);
      alone.add(s.xT, s.xT + s.xC, s.rho);
    }
    expect(alone.logEvidence()).toBe(mixture.logEvidence());
  });
});

describe("validity at the null's boundary (Ville's inequality)", () => {
  // The true ratio is the null's, 1.2: the hardest case for a one-sided test. The canary's share
  // moves 1% -> 5% -> 25% -> 50% and the base rate drifts; the evidence is read after every slice.
  for (const target of [1, 2]) {
    it(`rarely crosses 1/alpha, estimate pulled toward ${target}x the null`, () => {
      const seeds = 300;
      let crossed = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const rng = new Random(7000 + seed);
        const e = new PluginRatioEvidence(1.2, "above", [0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3], {
          weight: 1,
          prior: 2,
          target,
        });
        let max = 0;
        for (let minute = 0; minute < 240; minute++) {
          const step = Math.floor(minute / 60);
          e.begin(step);
          const share = [0.01, 0.05, 0.25, 0.5][step]!;
          const rate = 0.003 + (0.004 * minute) / 239;
          const nT = rng.poisson(100 * 60 * share);
          const nC = rng.poisson(100 * 60 * (1 - share));
          const xT = rng.binomial(nT, rate * 1.2);
          const xC = rng.binomial(nC, rate);
          if (nT > 0 && nC > 0 && xT + xC > 0) e.add(xT, xT + xC, nT / nC);
          max = Math.max(max, e.logEvidence());
        }
        if (max >= Math.log(20)) crossed++;
      }
      const alpha = 0.05;
      expect(crossed / seeds).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / seeds));
    });
  }
});

describe("the judge's switch", () => {
  const policy = policySchema.parse({
    service: "checkout",
    alpha: 0.05,
    check_every: "1m",
    ladder: [{ percent: 5, window: "30m" }, { percent: 100 }],
    metrics: [
      {
        name: "errors",
        type: "ratio",
        events: "http_errors",
        trials: "http_requests",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 0.5 },
      },
    ],
  });
  const sim = simulateDeployment({
    seed: 4242,
    ladder: [{ percent: 5, minutes: 20 }],
    rps: 100,
    errorRate: () => ({ canary: 0.01, control: 0.005 }),
  });
  const ctx: JudgeContext = { deploymentId: "d", policy, steps: sim.steps, state: "canary", at: sim.end };
  const evidence = (options: Parameters<typeof createJudge>[1]) => {
    const judge = createJudge(ctx, options);
    for (const s of sim.slices) judge.addSlice(s);
    return judge.report(sim.end, { intervals: false, hash: false }).rows.find((r) => r.statistic === "rate")!
      .evidence;
  };

  it("is off by default: the error rate's harm test is the mixture alone", () => {
    const report = compareMetrics(ctx, sim.slices, { intervals: false, hash: false });
    const row = report.rows.find((r) => r.statistic === "rate")!;
    expect(evidence({})).toBe(row.evidence);
    expect(evidence({ harmPlugin: null })).toBe(row.evidence);
  });

  it("blends the plug-in into the error rate's harm test when set", () => {
    const mixture = evidence({});
    const plugin = evidence({ harmPlugin: { weight: 1, prior: 4, target: 2 } });
    const blend = evidence({ harmPlugin: { weight: 0.5, prior: 4, target: 2 } });
    expect(plugin).not.toBe(mixture);
    // A blend's e-value lies between its parts (its running maximum over looks may sit above the
    // last look's value, never above both parts' maxima).
    expect(blend).toBeLessThanOrEqual(Math.max(mixture, plugin) * (1 + 1e-12));
    expect(blend).toBeGreaterThanOrEqual(Math.min(mixture, plugin) / 2);
  });
});

import { describe, expect, it } from "vitest";
import {
  BURST_ALLOWANCE_EVENTS,
  BURST_ALLOWANCE_SD,
  DISPERSION_HOLD_PER_SLICE,
  DISPERSION_PRIOR_RARE,
  DISPERSION_PRIOR_WEIGHT,
  ShareDispersion,
} from "../../../mcp-server/core/stats/dispersion.js";
import {
  HARM_GRID_LOG_WEIGHTS,
  RATIO_GRID_LOG,
  RATIO_GRID_SIZE,
  RatioTest,
  RestartingRatioEvidence,
} from "../../../mcp-server/core/stats/ratio-evidence.js";
import { Random } from "../../support/random.js";

// What the harm tests read from the dispersion (stats/dispersion.ts): the burst excess no other
// slice of the step explains is set aside, and the dispersion seen at a look is held, fading.

/** 1% canary: rho = n_T / n_C. */
const RHO = 1 / 99;

/** The count a slice may hold before its excess is set aside, for an expected share p of m events. */
function allowed(m: number, p: number): number {
  return m * p + BURST_ALLOWANCE_SD * Math.sqrt(m * p * (1 - p)) + BURST_ALLOWANCE_EVENTS;
}

describe("the burst excess the harm tests set aside", () => {
  it("is the part of a slice's canary count beyond what the other slices of its step explain", () => {
    const d = new ShareDispersion(1);
    for (let k = 0; k < 20; k++) d.add(3, 300, RHO);
    d.add(20, 317, RHO);
    // The leave-one-out fit of the burst slice: the Mantel-Haenszel ratio of the other 20 (x_T = 3
    // of 300 at 1%: exactly the null's share), with half an event on each side.
    const canary = 20 * (3 / (1 + RHO)) + 0.5;
    const control = 20 * ((297 * RHO) / (1 + RHO)) + 0.5;
    const ratio = canary / control;
    const p = (RHO * ratio) / (1 + RHO * ratio);
    const [shift] = d.harm([0]).countShifts;
    expect(shift).toBeCloseTo(allowed(317, p) - 20, 9);
    expect(shift).toBeLessThan(-10);
  });

  it("leaves counts within the allowance alone, and only the harm side is adjusted", () => {
    const quiet = new ShareDispersion(1);
    for (let k = 0; k < 30; k++) quiet.add(k % 2 === 0 ? 2 : 4, 300, RHO);
    expect(quiet.harm([0]).countShifts).toEqual([0]);
    // A slice far below the others: a higher-is-harm test ignores it, a lower-is-harm test fills it up.
    const up = new ShareDispersion(1);
    const down = new ShareDispersion(-1);
    for (const d of [up, down]) {
      for (let k = 0; k < 20; k++) d.add(30, 300, 1 / 9);
      d.add(0, 300, 1 / 9);
    }
    expect(up.harm([0]).countShifts).toEqual([0]);
    const [fill] = down.harm([0]).countShifts;
    expect(fill).toBeGreaterThan(15);
  });

  it("gives a regression's first slice its events back once later slices explain it", () => {
    const d = new ShareDispersion(1);
    d.add(15, 315, RHO); // x5 at 1%: a burst as far as one slice can tell
    const first = d.harm([0]).countShifts[0]!;
    expect(first).toBeLessThan(-5);
    for (let k = 0; k < 4; k++) d.add(15, 315, RHO);
    expect(d.harm([0]).countShifts).toEqual([0]);
  });

  it("judges a later step's slices against that step only, so a regression starting there is not a run of bursts", () => {
    const d = new ShareDispersion(1);
    for (let k = 0; k < 120; k++) d.add(k % 2 === 0 ? 14 : 16, 300, 5 / 95); // healthy 5% step
    d.beginStep();
    const start = d.slices;
    for (let k = 0; k < 3; k++) d.add(150, 375, 1 / 3); // x2 from the 25% step
    expect(d.harm([0, start]).countShifts).toEqual([0, 0]);
  });

  it("is counted per restart from the slice it began at", () => {
    const d = new ShareDispersion(1);
    for (let k = 0; k < 20; k++) d.add(3, 300, RHO);
    d.add(25, 322, RHO);
    d.beginStep();
    const start = d.slices;
    for (let k = 0; k < 20; k++) d.add(3, 300, RHO);
    d.add(25, 322, RHO);
    const [whole, restart] = d.harm([0, start, Number.POSITIVE_INFINITY]).countShifts;
    expect(restart).toBeLessThan(-10);
    expect(whole).toBeCloseTo(2 * restart!, 0);
    expect(d.harm([0, start, Number.POSITIVE_INFINITY]).countShifts[2]).toBe(0);
  });
});

describe("the dispersion the harm tests hold from a look", () => {
  it("fades by DISPERSION_HOLD_PER_SLICE a slice after the look that saw it", () => {
    // Two 8s where 3 are expected: the first reads as a burst, the second explains it, and the
    // estimate sinks at once; the harm tests keep weighing the pair down for a few slices.
    const d = new ShareDispersion(1);
    d.add(8, 305, RHO);
    d.look();
    const seen = d.value();
    expect(seen).toBeGreaterThan(3);
    for (let k = 1; k <= 3; k++) {
      d.add(8, 305, RHO);
      const faded = 1 + (seen - 1) * DISPERSION_HOLD_PER_SLICE ** k;
      expect(d.value()).toBeLessThan(faded);
      expect(d.harm([0]).temper).toBeCloseTo(faded, 12);
      d.look();
    }
  });

  it("fades by the slices since the last look, whatever the cadence", () => {
    const d = new ShareDispersion(1);
    d.add(8, 305, RHO);
    d.look();
    const seen = d.value();
    for (let k = 0; k < 3; k++) d.add(8, 305, RHO);
    expect(d.harm([0]).temper).toBeCloseTo(
      Math.max(d.value(), 1 + (seen - 1) * DISPERSION_HOLD_PER_SLICE ** 3),
      12,
    );
  });

  it("fades faster when events are rare, as the prior counts for more", () => {
    // 0.6 canary events expected a slice: the prior is DISPERSION_PRIOR_RARE over the mean null
    // variance per slice (about 8 units), and the hold fades by DISPERSION_HOLD_PER_SLICE^(W / 4)
    // a slice. Two slices of 4 events: the first reads as a burst, the second explains it.
    const d = new ShareDispersion(1);
    d.add(4, 64, RHO);
    d.look();
    const seen = d.value();
    expect(seen).toBeGreaterThan(2);
    d.add(4, 64, RHO);
    const prior = (DISPERSION_PRIOR_RARE * 2) / ((2 * 64 * RHO) / (1 + RHO) ** 2);
    expect(prior).toBeGreaterThan(1.5 * DISPERSION_PRIOR_WEIGHT);
    const held = 1 + (seen - 1) * DISPERSION_HOLD_PER_SLICE ** (prior / DISPERSION_PRIOR_WEIGHT);
    expect(d.value()).toBeLessThan(held);
    expect(d.harm([0]).temper).toBeCloseTo(held, 12);
    expect(held).toBeLessThan(1 + (seen - 1) * DISPERSION_HOLD_PER_SLICE);
  });

  it("is never below the estimate now, and 1 with no slices", () => {
    const d = new ShareDispersion(1);
    expect(d.harm([0]).temper).toBe(1);
    for (let k = 0; k < 40; k++) {
      d.add(k === 20 ? 25 : 3, 300, RHO);
      if (k % 5 === 0) d.look();
      expect(d.harm([0]).temper).toBeGreaterThanOrEqual(d.value());
    }
  });
});

describe("validity: the adjusted harm evidence reaches 1/alpha only where the plain mixture does", () => {
  // log E_adj <= log sum_g w_g exp(L_g / phi) <= (1 / phi) log E_plain: the shifts lower every L_g,
  // and x -> x^(1/phi) is concave (Jensen). So E_adj >= 1/alpha implies E_plain >= (1/alpha)^phi.
  it("for any data (counts moved toward the null, a dispersion of at least 1)", () => {
    const rng = new Random(7);
    for (let run = 0; run < 50; run++) {
      const test = new RatioTest(1, "above");
      const evidence = new RestartingRatioEvidence(test, [1]);
      const d = new ShareDispersion(1);
      evidence.begin(0);
      for (let k = 0; k < 60; k++) {
        const burst = rng.uniform() < 0.1 ? rng.poisson(8) : 0;
        const xT = rng.poisson(3 * (run % 3 === 0 ? 2 : 1)) + burst;
        const m = xT + rng.poisson(297);
        test.prepare(RHO);
        evidence.add(xT, m);
        d.add(xT, m, RHO);
        d.look();
        const harm = d.harm([0]);
        const plain = evidence.logEvidence(1);
        expect(evidence.logEvidence(harm.temper, harm.countShifts)).toBeLessThanOrEqual(
          plain / harm.temper + 1e-12,
        );
      }
    }
  });
});

describe("the harm tests' prior over the grid (policies that look often)", () => {
  it("sums to 1, peaks near 2.5x the null and keeps a twentieth spread evenly", () => {
    const weights = Array.from(HARM_GRID_LOG_WEIGHTS, Math.exp);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const peak = weights.indexOf(Math.max(...weights));
    expect(Math.exp(RATIO_GRID_LOG[peak]!)).toBeGreaterThan(2.3);
    expect(Math.exp(RATIO_GRID_LOG[peak]!)).toBeLessThan(2.7);
    expect(Math.min(...weights)).toBeGreaterThanOrEqual(0.05 / RATIO_GRID_SIZE);
  });

  it("is what the mixture weighs its alternatives by: a run at 2x earns more than under even weights", () => {
    const test = new RatioTest(1, "above");
    const prior = new RestartingRatioEvidence(test, [1], HARM_GRID_LOG_WEIGHTS);
    const even = new RestartingRatioEvidence(test, [1]);
    for (const e of [prior, even]) e.begin(0);
    for (let k = 0; k < 30; k++) {
      test.prepare(RHO);
      prior.add(6, 303);
      even.add(6, 303);
    }
    // log E = log sum_g w_g exp(L_g), written out.
    const values = new Float64Array(RATIO_GRID_SIZE);
    const slope = RATIO_GRID_LOG.map((l) => Math.log1p(RHO * Math.exp(l)) - Math.log1p(RHO));
    for (let g = 0; g < RATIO_GRID_SIZE; g++) values[g] = 30 * (6 * RATIO_GRID_LOG[g]! - 303 * slope[g]!);
    const expected = Math.log(values.reduce((acc, v, g) => acc + Math.exp(v + HARM_GRID_LOG_WEIGHTS[g]!), 0));
    expect(prior.logEvidence()).toBeCloseTo(expected, 9);
    expect(prior.logEvidence()).toBeGreaterThan(even.logEvidence() + 0.5);
  });
});

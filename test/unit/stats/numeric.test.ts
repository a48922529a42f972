// biome-ignore-all lint/correctness/noPrecisionLoss: reference values as printed by mpmath (17 significant digits)
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  binomialLowerTail,
  binomialQuantile,
  binomialUpperTail,
  erfc,
  erfcx,
  log1mExp,
  logAddExp,
  logBinomialPmf,
  logChoose,
  logGamma,
  logNormalCdf,
  logNormalCdfPlusHalfSquare,
  logSumExp,
  normalCdf,
  normalQuantile,
  normalSurvival,
  regularizedIncompleteBeta,
} from "../../../mcp-server/core/stats/numeric.js";

// Reference values computed with mpmath 1.3 at 40 significant digits (loggamma, ncdf, erfc,
// erfinv, betainc, exact binomial sums); the one marked scipy is scipy.stats.binom 1.17 (Boost).

const NORMAL_CDF_MINUS_37 = 5.7255712225245768e-300;

function relClose(actual: number, expected: number, rel: number): void {
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  expect(Math.abs(actual - expected) / scale, `${actual} vs ${expected}`).toBeLessThanOrEqual(rel);
}

describe("logGamma (Lanczos)", () => {
  it.each([
    [0.5, 0.5723649429247001], // log(sqrt(pi))
    [1.5, -0.12078223763524522],
    [2.5, 0.28468287047291916],
    [3.5, 1.2009736023470742],
    [10, 12.80182748008147], // log(9!)
    [100, 359.1342053695754],
    [0.001, 6.9071788853838537],
    [0.1, 2.2527126517342059],
    [0.25, 1.2880225246980775],
    [1e6, 12815504.569147612],
    [1e10, 220258509288.81058],
  ])("lgamma(%d)", (x, expected) => relClose(logGamma(x), expected, 1e-13));

  it("is exactly zero-ish at 1 and 2 and uses the reflection formula below 1/2", () => {
    expect(Math.abs(logGamma(1))).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(2))).toBeLessThan(1e-14);
    relClose(logGamma(-0.5), 1.2655121234846454, 1e-13); // log|Gamma(-1/2)| = log(2 sqrt(pi))
    relClose(logGamma(-2.5), -0.056243716497674051, 1e-11);
    expect(logGamma(0)).toBe(Number.POSITIVE_INFINITY);
    expect(logGamma(-3)).toBe(Number.POSITIVE_INFINITY);
  });

  it("satisfies lgamma(x + 1) = lgamma(x) + log(x)", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e5, noNaN: true }), (x) => {
        const lhs = logGamma(x + 1);
        const rhs = logGamma(x) + Math.log(x);
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-12 * Math.max(1, Math.abs(lhs)));
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it("gives log binomial coefficients", () => {
    relClose(logChoose(10, 3), Math.log(120), 1e-14);
    relClose(logChoose(52, 5), Math.log(2598960), 1e-14);
    expect(logChoose(5, 0)).toBe(0);
    expect(logChoose(5, 6)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe("log-space helpers", () => {
  it("adds in log space without overflow", () => {
    relClose(logAddExp(Math.log(2), Math.log(3)), Math.log(5), 1e-15);
    relClose(logAddExp(1000, 1000), 1000 + Math.LN2, 1e-15);
    expect(logAddExp(Number.NEGATIVE_INFINITY, 3)).toBe(3);
    relClose(logSumExp([1000, 1000, 1000, 1000]), 1000 + Math.log(4), 1e-15);
    relClose(logSumExp([-1000, -1001]), -1000 + Math.log1p(Math.exp(-1)), 1e-15);
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY);
    expect(logSumExp([5, 1e9, 7], 1)).toBe(5);
  });

  it("computes log(1 - exp(x)) at both ends", () => {
    relClose(log1mExp(-1e-20), Math.log(1e-20), 1e-12);
    relClose(log1mExp(-50), -1.9287498479639178e-22, 1e-12);
    relClose(log1mExp(-Math.LN2), Math.log(0.5), 1e-15);
  });
});

describe("binomial probabilities (Loader's saddle point)", () => {
  it.each([
    [3, 10, 0.3, -1.3211512777668886],
    [5000, 10000, 0.5, -4.8309865386327771],
    [0, 100, 0.01, -1.0050335853501441],
    [50, 1000, 0.01, -44.142059433494784],
    [1, 1_000_000, 1e-6, -0.99999949999983333],
  ])("log P(X = %d), n = %d, p = %d", (k, n, p, expected) =>
    relClose(logBinomialPmf(k, n, p), expected, 1e-13),
  );

  it("handles the edges", () => {
    expect(logBinomialPmf(0, 10, 0)).toBe(0);
    expect(logBinomialPmf(1, 10, 0)).toBe(Number.NEGATIVE_INFINITY);
    expect(logBinomialPmf(10, 10, 1)).toBe(0);
    expect(logBinomialPmf(11, 10, 0.5)).toBe(Number.NEGATIVE_INFINITY);
  });

  it.each([
    [18, 1800, 0.005, 0.0052043754711533697],
    [3, 10, 0.3, 0.61721721359999997],
    [60, 10000, 0.01, 0.9999941895317661],
    [1, 10, 0.5, 0.9990234375],
  ])("P(X >= %d), n = %d, p = %d", (k, n, p, expected) =>
    relClose(binomialUpperTail(k, n, p), expected, 1e-12),
  );

  it("keeps the small tail precise on both sides", () => {
    relClose(binomialLowerTail(20, 10000, 0.01), 1.3791105952869667e-22, 1e-11);
    relClose(binomialLowerTail(5, 1000, 0.01), 0.066139511607251966, 1e-12);
    relClose(binomialLowerTail(9990, 10000, 0.999), 0.54213287602098261, 1e-12);
    relClose(binomialUpperTail(5200, 1_000_000, 0.005), 0.002459047142753808, 1e-10); // scipy
  });

  it("upper and lower tails add up to one", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, p, f) => {
          const k = Math.floor(f * n);
          const total = binomialLowerTail(k, n, p) + binomialUpperTail(k + 1, n, p);
          expect(Math.abs(total - 1)).toBeLessThan(1e-12);
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it("finds binomial quantiles", () => {
    expect(binomialQuantile(0.025, 1000, 0.99)).toBe(983);
    expect(binomialQuantile(0.975, 1000, 0.99)).toBe(996);
    expect(binomialQuantile(0.025, 200, 0.5)).toBe(86);
    expect(binomialQuantile(0.975, 200, 0.5)).toBe(114);
    expect(binomialQuantile(0.0005, 2_000_000, 0.999)).toBe(1997851);
  });

  it("matches the regularized incomplete beta", () => {
    relClose(regularizedIncompleteBeta(2.5, 3.5, 0.4), 0.4869041915261174, 1e-13);
    relClose(regularizedIncompleteBeta(100, 200, 0.3), 0.10884306564490976, 1e-11);
  });
});

describe("normal distribution", () => {
  it.each([
    [-5, 2.8665157187919391e-7],
    [-10, 7.6198530241605261e-24],
    [-1, 0.15865525393145705],
    [0, 0.5],
    [1.96, 0.97500210485177956],
    [3, 0.99865010196836991],
  ])("Phi(%d)", (x, expected) => relClose(normalCdf(x), expected, 1e-14));

  it("is accurate deep in the tail and for its complement", () => {
    // Rounding x / sqrt(2) costs about x^2 * 1e-16 relative in the tail; Cody's erfc is exact beyond that.
    relClose(normalCdf(-20), 2.7536241186062337e-89, 1e-13);
    relClose(normalCdf(-37), NORMAL_CDF_MINUS_37, 1e-12);
    relClose(normalSurvival(5), 2.8665157187919391e-7, 1e-14);
  });

  it.each([
    [0.3, 0.67137324054087258],
    [1, 0.15729920705028513],
    [3, 2.2090496998585441e-5],
    [5, 1.5374597944280349e-12],
    [10, 2.0884875837625448e-45],
    [26, 5.6631924088561428e-296],
    [-1, 1.8427007929497149],
  ])("erfc(%d)", (x, expected) => relClose(erfc(x), expected, 1e-14));

  it.each([
    [0.3, 0.73459933456765515],
    [5, 0.11070463773306863],
    [30, 0.018795888861416751],
    [1000, 0.00056418930145338765],
    [-1, 5.0089800807622835],
  ])("erfcx(%d)", (x, expected) => relClose(erfcx(x), expected, 1e-14));

  it("gives log Phi far into the lower tail", () => {
    relClose(logNormalCdf(-5), -15.064998393988726, 1e-14);
    relClose(logNormalCdf(-40), -804.60844201375379, 1e-14);
    relClose(logNormalCdf(-100), -5005.5242086942051, 1e-14);
    relClose(logNormalCdf(2), -0.023012909328963488, 1e-13);
    relClose(logNormalCdfPlusHalfSquare(-30), -4.3212439563431971, 1e-13);
    relClose(logNormalCdfPlusHalfSquare(-3), -2.1077262215103495, 1e-14);
    relClose(logNormalCdfPlusHalfSquare(0), -Math.LN2, 1e-15);
    relClose(logNormalCdfPlusHalfSquare(2), 1.9769870906710365, 1e-14);
  });

  it.each([
    [0.975, 1.9599639845400539],
    [0.001, -3.0902323061678135],
    [1e-10, -6.3613409024040562],
    [0.999999, 4.7534243088170878],
    [1e-20, -9.2623400897984076],
    [0.3, -0.52440051270804082],
  ])("Phi^-1(%d) (AS 241)", (p, expected) => relClose(normalQuantile(p), expected, 1e-14)); // references at the double nearest p

  it("inverts the CDF", () => {
    // Above 5 the CDF itself rounds to within 1e-16 of 1, so the round trip is checked below that.
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    fc.assert(
      fc.property(fc.double({ min: -8, max: 5, noNaN: true }), (x) => {
        expect(Math.abs(normalQuantile(normalCdf(x)) - x)).toBeLessThan(1e-9 * Math.max(1, Math.abs(x)));
      }),
      { seed: 3, numRuns: 300 },
    );
  });
});

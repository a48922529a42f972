import { normalQuantile } from "../normal.js";

// Mann-Whitney U with a confidence interval for the location shift, as Kayenta computes it (its
// port of R's wilcox.test(conf.int = TRUE, exact = FALSE, correct = TRUE)): the interval ends and
// the estimate are roots in mu of the continuity-corrected, tie-corrected normal statistic of
// rank-sum(x - mu, y). Roots are found with Brent's method on [min(x) - max(y), max(x) - min(y)].

export interface ShiftInterval {
  lower: number;
  upper: number;
  estimate: number;
}

/**
 * Standardised rank-sum statistic of x - mu against y, minus `quantile`. Both inputs sorted
 * ascending; a merge gives the ranks (average ranks for ties) in O(n + m) per evaluation.
 */
export function wilcoxonDiff(
  mu: number,
  quantile: number,
  xs: readonly number[],
  ys: readonly number[],
): number {
  const n = xs.length;
  const m = ys.length;
  let i = 0;
  let j = 0;
  let rank = 0;
  let rankSumX = 0;
  let tieTerm = 0;
  while (i < n || j < m) {
    // The next value in the merged order and how many of each sample share it.
    const xv = i < n ? xs[i]! - mu : Number.POSITIVE_INFINITY;
    const yv = j < m ? ys[j]! : Number.POSITIVE_INFINITY;
    const v = Math.min(xv, yv);
    let cx = 0;
    let cy = 0;
    while (i < n && xs[i]! - mu === v) {
      cx++;
      i++;
    }
    while (j < m && ys[j]! === v) {
      cy++;
      j++;
    }
    const t = cx + cy;
    const avgRank = rank + (t + 1) / 2;
    rankSumX += cx * avgRank;
    rank += t;
    if (t > 1) tieTerm += t * t * t - t;
  }
  const dz = rankSumX - (n * (n + 1)) / 2 - (n * m) / 2;
  const correction = Math.sign(dz) * 0.5;
  const sigma = Math.sqrt(((n * m) / 12) * (n + m + 1 - tieTerm / ((n + m) * (n + m - 1))));
  if (sigma === 0) throw new Error("cannot compute confidence interval when all observations are tied");
  return (dz - correction) / sigma - quantile;
}

/** Brent's root finder (as in Apache Commons Math's BrentSolver, absolute accuracy 1e-6). */
export function brentRoot(
  f: (x: number) => number,
  lo: number,
  hi: number,
  fLo: number,
  fHi: number,
): number {
  const absoluteAccuracy = 1e-6;
  const relativeAccuracy = 1e-14;
  let a = lo;
  let fa = fLo;
  let b = hi;
  let fb = fHi;
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let iter = 0; iter < 200; iter++) {
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol = 2 * relativeAccuracy * Math.abs(b) + absoluteAccuracy;
    const mid = 0.5 * (c - b);
    if (Math.abs(mid) <= tol || fb === 0) return b;
    if (Math.abs(e) < tol || Math.abs(fa) <= Math.abs(fb)) {
      d = mid;
      e = d;
    } else {
      let s = fb / fa;
      let p: number;
      let q: number;
      if (a === c) {
        p = 2 * mid * s;
        q = 1 - s;
      } else {
        q = fa / fc;
        const r = fb / fc;
        p = s * (2 * mid * q * (q - r) - (b - a) * (r - 1));
        q = (q - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      s = e;
      e = d;
      if (p >= 1.5 * mid * q - Math.abs(tol * q) || p >= Math.abs(0.5 * s * q)) {
        d = mid;
        e = d;
      } else {
        d = p / q;
      }
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol ? d : mid > 0 ? tol : -tol;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb <= 0 && fc <= 0)) {
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
  }
  return b;
}

/** The confidence interval and estimate of the shift x - y at the given confidence level. */
export function mannWhitneyShift(
  x: readonly number[],
  y: readonly number[],
  confidenceLevel: number,
): ShiftInterval {
  const xs = [...x].sort((p, q) => p - q);
  const ys = [...y].sort((p, q) => p - q);
  const muMin = xs[0]! - ys[ys.length - 1]!;
  const muMax = xs[xs.length - 1]! - ys[0]!;
  const alpha = 1 - confidenceLevel;
  const f = (zq: number) => (mu: number) => wilcoxonDiff(mu, zq, xs, ys);
  const findRoot = (zq: number): number => {
    const fLower = f(zq)(muMin);
    const fUpper = f(zq)(muMax);
    if (fLower <= 0) return muMin;
    if (fUpper >= 0) return muMax;
    return brentRoot(f(zq), muMin, muMax, fLower, fUpper);
  };
  const zQuant = normalQuantile(alpha / 2);
  const lower = findRoot(-zQuant);
  const upper = findRoot(zQuant);
  const f0 = f(0);
  const fLo = f0(muMin);
  const fHi = f0(muMax);
  // Kayenta solves for the estimate without the end checks; when the bracket does not change sign
  // (a degenerate sample) the nearer end is the root.
  const estimate = fLo <= 0 ? muMin : fHi >= 0 ? muMax : brentRoot(f0, muMin, muMax, fLo, fHi);
  return { lower, upper, estimate };
}

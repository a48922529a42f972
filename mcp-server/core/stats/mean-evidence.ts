import { logNormalCdfPlusHalfSquare } from "./numeric.js";

// Normal-mixture sequential test on a stratified difference of means (docs/statistics.md "Means"); Johari,
// Koomen, Pekelis & Walsh, "Always Valid Inference: Continuous Monitoring of A/B Tests",
// Operations Research 70(3), 2022.
//
// Per slice k with both cohorts present, d_k = mean_T - a mean_C - b (a = 1 + relative shift,
// b = absolute shift), weighted by h_k = n_T n_C / (n_T + n_C) (half the harmonic mean of the
// counts: the inverse-variance weight when both cohorts share a variance). With S = sum h_k d_k,
// W = sum h_k, V = sum h_k^2 (s2_T / n_T + a^2 s2_C / n_C), the stratified difference is D = S / W
// with variance v = V / W^2. Mixing the Gaussian likelihood ratio over effects theta ~ N(0, tau^2)
// gives Johari's
//     Lambda = sqrt(v / (v + tau^2)) exp(tau^2 D^2 / (2 v (v + tau^2))),
// and restricting the mixture to the harmful half-line gives the one-sided form used here:
//     Lambda+ = 2 Phi(z) exp(z^2 / 2) sqrt(v / (v + tau^2)),   z = tau D / sqrt(v (v + tau^2)).
// It is a supermartingale for every difference on the null side (theta <= b for "above").
//
// Variances: a slice with n >= 2 uses its own sample variance; a slice with n < 2 uses the
// cohort's variance pooled over all slices with n >= 2 (the within-slice pooled variance), as the
// spec asks. Variances are plug-in estimates, as in every practical mSPRT: validity is asymptotic.
//
// tau: the caller passes the policy's margin on the absolute scale (a relative margin times the
// control's mean). The mixture then puts its weight on effects of the size the policy cares about,
// and the same tau is used for the harm, improvement and margin tests of a metric.

/** One slice's moments for both cohorts. */
export interface MeanSliceMoments {
  nT: number;
  sumT: number;
  sumSqT: number;
  nC: number;
  sumC: number;
  sumSqC: number;
}

/** Sample variance from n, sum, sum of squares (0 when rounding makes it negative). */
export function sampleVariance(n: number, sum: number, sumSq: number): number {
  if (n < 2) return 0;
  return Math.max(0, (sumSq - (sum * sum) / n) / (n - 1));
}

/** Within-slice variance pooled over slices with at least two samples. */
export class PooledVariance {
  private squares = 0;
  private degrees = 0;

  add(n: number, sum: number, sumSq: number): void {
    if (n < 2) return;
    this.squares += sampleVariance(n, sum, sumSq) * (n - 1);
    this.degrees += n - 1;
  }

  value(): number | null {
    return this.degrees > 0 ? this.squares / this.degrees : null;
  }
}

/** The difference tested: mean_T - scale * mean_C - shift, with harm on the `direction` side. */
export interface MeanTestSpec {
  scale: number;
  shift: number;
  direction: "above" | "below";
}

/** Sums for one test from one start. */
export class MeanDifferenceSums {
  weight = 0;
  sum = 0;
  /** sum h^2 (own variance parts) */
  variance = 0;
  /** sum h^2 / n_T over slices whose canary variance comes from the pool */
  pooledCanary = 0;
  /** sum h^2 a^2 / n_C over slices whose control variance comes from the pool */
  pooledControl = 0;
  /** sum h d as if the canary's mean equalled the control's (for projections) */
  projectedSum = 0;
  canarySamples = 0;

  add(spec: MeanTestSpec, s: MeanSliceMoments): void {
    const h = (s.nT * s.nC) / (s.nT + s.nC);
    const meanT = s.sumT / s.nT;
    const meanC = s.sumC / s.nC;
    const a = spec.scale;
    this.weight += h;
    this.sum += h * (meanT - a * meanC - spec.shift);
    this.projectedSum += h * (meanC - a * meanC - spec.shift);
    const h2 = h * h;
    if (s.nT >= 2) this.variance += (h2 * sampleVariance(s.nT, s.sumT, s.sumSqT)) / s.nT;
    else this.pooledCanary += h2 / s.nT;
    if (s.nC >= 2) this.variance += (h2 * a * a * sampleVariance(s.nC, s.sumC, s.sumSqC)) / s.nC;
    else this.pooledControl += (h2 * a * a) / s.nC;
    this.canarySamples += s.nT;
  }

  /** D and v, or null when there is no data or no variance estimate yet. */
  estimate(pooledCanary: number | null, pooledControl: number | null): { d: number; v: number } | null {
    if (this.weight <= 0) return null;
    if (
      (this.pooledCanary > 0 && pooledCanary === null) ||
      (this.pooledControl > 0 && pooledControl === null)
    )
      return null;
    const V =
      this.variance + this.pooledCanary * (pooledCanary ?? 0) + this.pooledControl * (pooledControl ?? 0);
    return { d: this.sum / this.weight, v: V / (this.weight * this.weight) };
  }
}

/** log of the one-sided mixture e-value for estimate d with variance v. */
export function logOneSidedMixture(d: number, v: number, tau: number, direction: "above" | "below"): number {
  if (!(tau > 0)) return 0;
  const t2 = tau * tau;
  // A difference measured without any noise (identical constant values) carries no usable
  // variance; a tiny floor keeps the formula finite.
  const vv = Math.max(v, t2 * 1e-12);
  const sign = direction === "above" ? 1 : -1;
  const z = (sign * tau * d) / Math.sqrt(vv * (vv + t2));
  return Math.LN2 + logNormalCdfPlusHalfSquare(z) + 0.5 * Math.log(vv / (vv + t2));
}

/**
 * Anytime-valid two-sided confidence sequence for the difference from Johari's mixture: the
 * differences theta with Lambda(D - theta) < threshold,
 * D +- sqrt(v (v + tau^2) / tau^2 * (log((v + tau^2) / v) + 2 log threshold)).
 */
export function meanConfidenceSequence(
  d: number,
  v: number,
  tau: number,
  threshold: number,
): { low: number; high: number } {
  const t2 = tau * tau;
  const vv = Math.max(v, t2 * 1e-12);
  const radius = Math.sqrt(((vv * (vv + t2)) / t2) * (Math.log((vv + t2) / vv) + 2 * Math.log(threshold)));
  return { low: d - radius, high: d + radius };
}

/**
 * Canary samples until the one-sided e-value would reach `threshold` if the data kept their
 * current estimate and variance per sample: with s times the data, D stays and v becomes v / s.
 * Solved by bisection on log s. Null when the estimate points the other way.
 */
export function meanSamplesToThreshold(
  d: number,
  v: number,
  tau: number,
  direction: "above" | "below",
  canarySamples: number,
  threshold: number,
): number | null {
  const sign = direction === "above" ? 1 : -1;
  if (!(sign * d > 0) || canarySamples <= 0) return null;
  const target = Math.log(threshold);
  const at = (logScale: number): number => logOneSidedMixture(d, v / Math.exp(logScale), tau, direction);
  if (at(0) >= target) return 0;
  let lo = 0;
  let hi = 1;
  while (at(hi) < target) {
    hi *= 2;
    if (hi > 60) return null;
  }
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (at(mid) >= target) hi = mid;
    else lo = mid;
  }
  return Math.max(0, Math.ceil(canarySamples * Math.exp(hi) - canarySamples));
}

/** The restarting one-sided mixture for means (see RestartingRatioEvidence for the construction). */
export class RestartingMeanEvidence {
  private readonly logWeights: number[];
  private readonly starts: (MeanDifferenceSums | null)[];
  logMax = 0;

  constructor(
    readonly spec: MeanTestSpec,
    restartWeights: readonly number[],
  ) {
    this.logWeights = restartWeights.map((w) => Math.log(w));
    this.starts = restartWeights.map(() => null);
  }

  begin(j: number): void {
    const last = Math.min(j, this.starts.length - 1);
    for (let i = 0; i <= last; i++) if (!this.starts[i]) this.starts[i] = new MeanDifferenceSums();
  }

  add(s: MeanSliceMoments): void {
    for (const start of this.starts) start?.add(this.spec, s);
  }

  /** A look at a check time: log E now joins the running maximum. */
  look(tau: number, pooledCanary: number | null, pooledControl: number | null): void {
    const current = this.logEvidence(tau, pooledCanary, pooledControl);
    if (current > this.logMax) this.logMax = current;
  }

  /** The largest of the looks so far and now. */
  logEvidenceSoFar(tau: number, pooledCanary: number | null, pooledControl: number | null): number {
    return Math.max(this.logMax, this.logEvidence(tau, pooledCanary, pooledControl));
  }

  logEvidence(tau: number, pooledCanary: number | null, pooledControl: number | null): number {
    let acc = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < this.starts.length; j++) {
      const s = this.starts[j];
      const est = s?.estimate(pooledCanary, pooledControl) ?? null;
      const term =
        this.logWeights[j]! + (est ? logOneSidedMixture(est.d, est.v, tau, this.spec.direction) : 0);
      acc = acc > term ? acc + Math.log1p(Math.exp(term - acc)) : term + Math.log1p(Math.exp(acc - term));
    }
    return acc;
  }
}

// Empirical-Bayes shrinkage of segment rates toward their cohort's rate, for the descriptive
// distribution of per-segment rates (docs/statistics.md "Segments"). A canary's segments are small, so their
// raw rates are noisy and the raw upper percentiles look worse than the control's even in A/A;
// shrinking each rate toward the cohort rate by how much the segments truly differ removes that.
//
// Beta-binomial model: segment rates p_i ~ Beta with mean mu and "prior sample size" kappa, events
// x_i ~ Binomial(n_i, p_i). With rho = 1 / (kappa + 1) the intra-class correlation,
// Var(x_i / n_i) = mu (1 - mu) (rho + (1 - rho) / n_i). The method of moments (Kleinman, "Proportions
// with extraneous variance", JASA 1973) matches the sample variance of the raw rates:
//   rho = (S^2 / (mu (1 - mu)) - mean(1 / n_i)) / (1 - mean(1 / n_i)),
// and the posterior mean of each segment is (x_i + kappa mu) / (n_i + kappa). When the raw rates
// vary no more than binomial noise explains (rho <= 0), every segment is shrunk to mu.

export interface SegmentCounts {
  events: number;
  trials: number;
}

/** Shrunk rates, in the order given; segments need trials > 0. */
export function shrinkRates(segments: readonly SegmentCounts[]): number[] {
  const k = segments.length;
  if (k === 0) return [];
  let events = 0;
  let trials = 0;
  for (const s of segments) {
    events += s.events;
    trials += s.trials;
  }
  const mu = trials > 0 ? events / trials : 0;
  if (k === 1 || mu <= 0 || mu >= 1) return segments.map((s) => (k === 1 ? s.events / s.trials : mu));
  let squares = 0;
  let inverse = 0;
  for (const s of segments) {
    const d = s.events / s.trials - mu;
    squares += d * d;
    inverse += 1 / s.trials;
  }
  const s2 = squares / (k - 1);
  const meanInverse = inverse / k;
  const rho = meanInverse >= 1 ? 0 : (s2 / (mu * (1 - mu)) - meanInverse) / (1 - meanInverse);
  if (!(rho > 0)) return segments.map(() => mu);
  if (rho >= 1) return segments.map((s) => s.events / s.trials);
  const kappa = 1 / rho - 1;
  return segments.map((s) => (s.events + kappa * mu) / (s.trials + kappa));
}

/** Quantile of values by linear interpolation between order statistics (Hyndman & Fan type 7). */
export function sampleQuantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

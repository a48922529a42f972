// How much more the canary's share of events varies from slice to slice than the conditional
// binomial allows (extra-binomial dispersion, the quasi-likelihood scale of McCullagh & Nelder,
// "Generalized Linear Models", ch. 4).
//
// The count tests assume events are independent given the slice. Retries break that: a failing
// request followed by its retries lands in one cohort as a burst, and the variance of the canary's
// share grows by E[S^2] / E[S] for bursts of size S (5 for one failure plus Geometric(mean 2)
// retries). Shared swings (drift, incidents, rate bursts hitting both cohorts) do not inflate it:
// conditioning on the slice's total removes them. So the estimate is the Pearson statistic of the
// canary's count around its expectation given the slice, summed over slices, over its binomial
// variance:
//
//   phi = (W + sum_k (x_Tk - m_k p_k)^2) / (W + sum_k m_k p_k (1 - p_k)),   p_k = rho_k r_-k / (1 + rho_k r_-k),
//
// where r_-k is the Mantel-Haenszel rate ratio of every slice but k (leave one out: a burst cannot
// explain itself away, and a real regression, fitted from the other slices, is not read as
// dispersion), and W a prior of W binomial-variance units at phi = 1, so a handful of events
// cannot swing it. The tests divide their log-likelihoods by max(1, phi): an event counts as 1/phi
// of an independent one. Bursts then weigh what independent events would; with no bursts phi stays
// near 1 and the tests keep their power. The current slice counts in the estimate, so a burst
// tempers its own weight the moment it arrives.

/** Prior weight, in units of binomial variance of the canary's count, at no dispersion. */
export const DISPERSION_PRIOR_WEIGHT = 4;
/** Largest dispersion applied: beyond it the data are not count data in any useful sense. */
export const DISPERSION_MAX = 100;
/** Events added to each side of the leave-one-out ratio: finite, and 1, before either cohort has any. */
const RATIO_PRIOR = 0.5;

export class ShareDispersion {
  private readonly xT: number[] = [];
  private readonly m: number[] = [];
  private readonly rho: number[] = [];
  /** Mantel-Haenszel sums: canary events x control share, control events x canary share. */
  private mhCanary = 0;
  private mhControl = 0;
  private cached: number | null = 1;

  /** A slice with xT canary events of m in both cohorts; rho = canary trials / control trials. */
  add(xT: number, m: number, rho: number): void {
    if (!(m > 0) || !(rho > 0) || !Number.isFinite(rho)) return;
    this.xT.push(xT);
    this.m.push(m);
    this.rho.push(rho);
    this.mhCanary += xT / (1 + rho);
    this.mhControl += ((m - xT) * rho) / (1 + rho);
    this.cached = null;
  }

  /** The dispersion the tests divide by: at least 1 (never sharper than the binomial). */
  value(): number {
    if (this.cached !== null) return this.cached;
    let residual = DISPERSION_PRIOR_WEIGHT;
    let variance = DISPERSION_PRIOR_WEIGHT;
    for (let k = 0; k < this.xT.length; k++) {
      const xT = this.xT[k]!;
      const m = this.m[k]!;
      const rho = this.rho[k]!;
      const ratio =
        (this.mhCanary - xT / (1 + rho) + RATIO_PRIOR) /
        (this.mhControl - ((m - xT) * rho) / (1 + rho) + RATIO_PRIOR);
      const p = (rho * ratio) / (1 + rho * ratio);
      const d = xT - m * p;
      residual += d * d;
      variance += m * p * (1 - p);
    }
    this.cached = Math.min(DISPERSION_MAX, Math.max(1, residual / variance));
    return this.cached;
  }
}

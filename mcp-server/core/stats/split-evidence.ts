import { LogLikelihoods, RatioTest } from "./ratio-evidence.js";

// Sample ratio mismatch (docs/statistics.md "Sample ratio mismatch"): is the canary's share of traffic the
// configured percent? Assignment is per user, so requests cluster and an exact binomial test flags
// healthy releases at high traffic; the question asked is instead whether the share is off by more
// than a relative tolerance (20% of the expected share by default).
//
// It is the ratio e-process again, with the expected shares as the "trials": with n_T = p_hi,
// n_C = 1 - p_hi, null ratio 1 and alternatives above, the per-slice null is "canary share
// <= p_hi = 1.2 p"; with p_lo = 0.8 p and alternatives below, "share >= p_lo". Each one-sided
// process gets half of the split check's budget: their average is one e-process, compared with
// 1 / alpha. Fabijan et al., "Diagnosing Sample Ratio Mismatch in Online Controlled Experiments",
// KDD 2019, list the causes; a crashing canary often shows up here first.

/** Relative tolerance on the canary's share before a mismatch is called. */
export const SPLIT_TOLERANCE = 0.2;

/** The split check over one step (restarted at each step, after the warm-up). */
export class SplitEvidence {
  private readonly tooHigh = new RatioTest(1, "above");
  private readonly tooLow = new RatioTest(1, "below");
  private readonly high = new LogLikelihoods();
  private readonly low = new LogLikelihoods();
  /** Running maximum of log E within the step. */
  logMax = 0;
  canary = 0;
  control = 0;
  slices = 0;

  /** Adds one slice: counts of units (or requests) per cohort, and the expected canary share p in (0, 1). */
  add(canary: number, control: number, expectedShare: number): void {
    this.canary += canary;
    this.control += control;
    this.slices++;
    const m = canary + control;
    if (m === 0 || !(expectedShare > 0) || !(expectedShare < 1)) return;
    const hi = expectedShare * (1 + SPLIT_TOLERANCE);
    if (hi < 1) {
      this.tooHigh.prepare(hi / (1 - hi));
      this.high.add(this.tooHigh, canary, m);
    }
    const lo = expectedShare * (1 - SPLIT_TOLERANCE);
    this.tooLow.prepare(lo / (1 - lo));
    this.low.add(this.tooLow, canary, m);
    const current = this.logEvidence();
    if (current > this.logMax) this.logMax = current;
  }

  /** log of (E_high + E_low) / 2. */
  logEvidence(): number {
    const a = this.high.logEvidence();
    const b = this.low.logEvidence();
    const top = Math.max(a, b);
    return top + Math.log(Math.exp(a - top) + Math.exp(b - top)) - Math.LN2;
  }
}

import { logAddExp } from "./numeric.js";
import {
  type RatioDirection,
  type RatioTest,
  RestartingRatioEvidence,
  restartsBegunAt,
} from "./ratio-evidence.js";

// A predictable plug-in e-process for a rate ratio, and its blend with the mixture
// (docs/judge-benchmark.md "Round 3").
//
// The mixture (ratio-evidence.ts) spreads its weight over 40 alternatives and pays for the ones the
// data do not favour. The plug-in bets on one alternative per slice instead: the rate ratio
// estimated from the slices strictly before it, pulled toward a target by a few pseudo-events: the
// predictable plug-in (Robbins & Siegmund, "The expected sample size of some tests of power one",
// Annals of Statistics 1974; for betting, Waudby-Smith & Ramdas, "Estimating means of bounded
// random variables by betting", JRSS-B 2024). Slice k multiplies the process by
//
//   (pi_k(a_k) / pi_k(r0))^x_T ((1 - pi_k(a_k)) / (1 - pi_k(r0)))^x_C,   a_k on the alternative side of r0,
//
// with a_k a function of slices 1..k-1 only. Why this stays an e-process: given the past and m_k,
// x_T ~ Binomial(m_k, p) with p = pi_k(r) and a_k fixed, so the factor's conditional mean is
//   (p q / p0 + (1 - p)(1 - q) / (1 - p0))^m_k,   q = pi_k(a_k), p0 = pi_k(r0),
// which is 1 at p = p0 and moves with p at the rate q / p0 - (1 - q) / (1 - p0): non-negative when
// q >= p0 (alternatives above), so the mean is at most 1 for every r <= r0 (mirror for "below").
// The product is a non-negative supermartingale under every null ratio, Ville's inequality applies,
// and it does not matter how a_k was chosen as long as it was chosen before slice k was seen. That
// is why the current slice never enters its own bet: a burst cannot bet on itself.
//
// The restarts are the mixture's (RestartingRatioEvidence): restart j starts at step j and
// estimates its ratio from its own slices, so a regression that begins late is not diluted by the
// healthy steps before it. Blending with the mixture, E = (1 - w) E_mix + w E_plug with w fixed in
// advance, is again a test supermartingale. The dispersion (stats/dispersion.ts) tempers it as it
// does the mixture: sum_j v_j exp(L_j / phi) <= (sum_j v_j exp(L_j))^(1 / phi) for phi >= 1, so a
// tempered e-value at 1/alpha means the untempered one was at least there.

/** How the harm test bets: the plug-in's share of the evidence and how its estimate is pulled. */
export interface PluginSpec {
  /** Weight of the plug-in e-process; the mixture keeps the rest (0 < weight <= 1). */
  weight: number;
  /** Pseudo-events (in expected canary events at the null) pulling the estimate toward the target. */
  prior: number;
  /** The ratio the estimate is pulled toward, as a factor beyond the null (1: the null itself). */
  target: number;
}

/** The largest alternative the plug-in bets on, as a factor beyond the null (the mixture's grid ends there too). */
export const PLUGIN_MAX_FACTOR = 10;

/** Plug-in e-processes with restarts at fixed points, one running estimate each. */
export class PluginRatioEvidence {
  private readonly logWeights: number[];
  private readonly sign: 1 | -1;
  /** Per restart: log-likelihood ratio so far, and the Mantel-Haenszel sums of its estimate. */
  private readonly logLR: number[];
  private readonly canarySum: number[];
  private readonly controlSum: number[];
  private readonly started: boolean[];

  constructor(
    private readonly nullRatio: number,
    direction: RatioDirection,
    restartWeights: readonly number[],
    private readonly spec: PluginSpec,
  ) {
    if (!(nullRatio > 0) || !Number.isFinite(nullRatio))
      throw new Error(`null ratio must be positive, got ${nullRatio}`);
    if (!(spec.prior > 0 && Number.isFinite(spec.prior)))
      throw new Error(`plug-in prior must be positive, got ${spec.prior}`);
    if (!(spec.target >= 1 && spec.target <= PLUGIN_MAX_FACTOR))
      throw new Error(`plug-in target must be in [1, ${PLUGIN_MAX_FACTOR}], got ${spec.target}`);
    this.sign = direction === "above" ? 1 : -1;
    this.logWeights = restartWeights.map((w) => Math.log(w));
    this.logLR = restartWeights.map(() => 0);
    this.canarySum = restartWeights.map(() => 0);
    this.controlSum = restartWeights.map(() => 0);
    this.started = restartWeights.map(() => false);
  }

  /** Starts the restarts step j begins (`restartsBegunAt`). */
  begin(j: number): void {
    for (const i of restartsBegunAt(j, this.started.length)) this.started[i] = true;
  }

  /** The alternative restart j bets on for its next slice: from its earlier slices only. */
  alternative(j: number): number {
    const { prior, target } = this.spec;
    const r0 = this.nullRatio;
    const pulled = r0 * target ** this.sign;
    const estimate = (this.canarySum[j]! + prior * pulled) / (this.controlSum[j]! + prior);
    const lo = this.sign === 1 ? r0 : r0 / PLUGIN_MAX_FACTOR;
    const hi = this.sign === 1 ? r0 * PLUGIN_MAX_FACTOR : r0;
    return Number.isFinite(estimate) ? Math.min(hi, Math.max(lo, estimate)) : r0;
  }

  /** Adds a slice: x_T canary events of m in both cohorts, rho = n_T / n_C. */
  add(xT: number, m: number, rho: number): void {
    const r0 = this.nullRatio;
    const base = Math.log1p(rho * r0);
    for (let j = 0; j < this.started.length; j++) {
      if (!this.started[j]) continue;
      // Bet first, from the past; only then let the slice into the estimate.
      const a = this.alternative(j);
      if (a !== r0) this.logLR[j] = this.logLR[j]! + xT * Math.log(a / r0) - m * (Math.log1p(rho * a) - base);
      this.canarySum[j] = this.canarySum[j]! + xT / (1 + rho);
      this.controlSum[j] = this.controlSum[j]! + ((m - xT) * rho) / (1 + rho);
    }
  }

  /** log E now, each restart's log-likelihood ratio divided by `temper` (the dispersion, >= 1). */
  logEvidence(temper = 1): number {
    let acc = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < this.started.length; j++) {
      const term = this.logWeights[j]! + (this.started[j] ? this.logLR[j]! / temper : 0);
      acc = logAddExp(acc, term);
    }
    return acc;
  }
}

/**
 * The harm test: the mixture alone, or blended with the plug-in at a fixed weight. Same shape as
 * RestartingRatioEvidence (begin, add, look, logEvidenceSoFar), with the slice's rho passed in.
 */
export class HarmRatioEvidence {
  readonly mixture: RestartingRatioEvidence;
  private readonly plugin: PluginRatioEvidence | null;
  private readonly logMixtureWeight: number;
  private readonly logPluginWeight: number;
  /** Largest log E seen at a look: a crossing stays a crossing. */
  logMax = 0;

  /** `gridLogWeights`: the mixture's weights over the ratio grid (null: even; stats/budget.ts `harmGridLogWeights`). */
  constructor(
    test: RatioTest,
    restartWeights: readonly number[],
    spec: PluginSpec | null,
    gridLogWeights: Float64Array | null = null,
  ) {
    this.mixture = new RestartingRatioEvidence(test, restartWeights, gridLogWeights);
    const weight = spec?.weight ?? 0;
    if (!(weight >= 0 && weight <= 1)) throw new Error(`plug-in weight must be in [0, 1], got ${weight}`);
    this.plugin =
      spec && weight > 0
        ? new PluginRatioEvidence(test.nullRatio, test.direction, restartWeights, spec)
        : null;
    this.logMixtureWeight = Math.log(1 - weight);
    this.logPluginWeight = Math.log(weight);
  }

  begin(j: number): void {
    this.mixture.begin(j);
    this.plugin?.begin(j);
  }

  /** Adds a slice; the mixture's `test.prepare(rho)` must have run. */
  add(xT: number, m: number, rho: number): void {
    if (this.logMixtureWeight > Number.NEGATIVE_INFINITY) this.mixture.add(xT, m);
    this.plugin?.add(xT, m, rho);
  }

  /** `countShifts`: the burst excess set aside, per restart (the mixture's only; the plug-in never bets on a slice it reads). */
  logEvidence(temper = 1, countShifts?: readonly number[]): number {
    if (!this.plugin) return this.mixture.logEvidence(temper, countShifts);
    const mix =
      this.logMixtureWeight > Number.NEGATIVE_INFINITY
        ? this.logMixtureWeight + this.mixture.logEvidence(temper, countShifts)
        : Number.NEGATIVE_INFINITY;
    return logAddExp(mix, this.logPluginWeight + this.plugin.logEvidence(temper));
  }

  look(temper = 1, countShifts?: readonly number[]): void {
    const current = this.logEvidence(temper, countShifts);
    if (current > this.logMax) this.logMax = current;
  }

  logEvidenceSoFar(temper = 1, countShifts?: readonly number[]): number {
    return Math.max(this.logMax, this.logEvidence(temper, countShifts));
  }
}

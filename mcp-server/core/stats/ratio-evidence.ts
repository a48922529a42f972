import { logSumExp } from "./numeric.js";

// Stratified conditional-binomial mixture e-process for a rate ratio (docs/statistics.md "Counts").
//
// Per slice k, condition on the events of both cohorts, m_k = x_T + x_C. If the canary's per-trial
// rate is r times the control's, x_T | m_k ~ Binomial(m_k, pi_k(r)) with
// pi_k(r) = n_T r / (n_T r + n_C). The likelihood ratio of an alternative a against the null r0 is
//
//   (pi_k(a) / pi_k(r0))^x_T ((1 - pi_k(a)) / (1 - pi_k(r0)))^x_C
//     = exp( x_T log(a / r0) - m_k [log1p(rho_k a) - log1p(rho_k r0)] ),   rho_k = n_T / n_C,
//
// so each alternative costs one log1p per slice. Mixing the alternatives over a fixed grid with
// fixed weights gives a non-negative supermartingale under every ratio on the null side; by
// Ville's inequality it crosses 1/a with probability at most a, however often it is looked at.
// The per-slice, two-arm form of Lindon & Malek, "Anytime-Valid Inference for Multinomial Count
// Data" (NeurIPS 2022), and of Lindon, Sanden & Shirikian, "Rapid Regression Detection in Software
// Deployments through Sequential Testing" (KDD 2022).
//
// Stratifying by slice is what keeps the test honest when the canary's share moves along the
// ladder while the baseline rate drifts: each slice compares the cohorts under the same conditions.

/** Number of alternatives in the mixture. */
export const RATIO_GRID_SIZE = 40;
/**
 * The smallest and largest alternative, as a factor beyond the null ratio. A ratio above the
 * largest is still caught (the largest alternative gains fast on it); a narrower grid puts more
 * weight near the ratios that matter. Measured in the judge benchmark (x2 errors at 100 rps,
 * 1-minute looks, 1 000 runs): median 39 min to rollback with [1.05, 20], 36 with [1.05, 10];
 * x5 unchanged (5 min).
 */
export const RATIO_GRID_MIN = 1.05;
export const RATIO_GRID_MAX = 10;
/** Spacing of the grid on the log scale. */
export const RATIO_GRID_LOG_STEP = Math.log(RATIO_GRID_MAX / RATIO_GRID_MIN) / (RATIO_GRID_SIZE - 1);
const LOG_GRID_MIN = Math.log(RATIO_GRID_MIN);
/** log of each alternative's factor r_g (log-spaced in [1.05, 10]). */
export const RATIO_GRID_LOG: Float64Array = Float64Array.from(
  { length: RATIO_GRID_SIZE },
  (_, g) => LOG_GRID_MIN + g * RATIO_GRID_LOG_STEP,
);
/** Equal weights: log(1 / 40). */
export const LOG_GRID_WEIGHT = -Math.log(RATIO_GRID_SIZE);

/**
 * The harm tests' prior over the grid when the policy looks often (stats/budget.ts
 * `harmGridLogWeights`): most of the weight where regressions that matter lie, a log-normal bump
 * centred at 2.5x the null (sd 0.3 in log ratio), and a twentieth spread evenly so a ratio far from
 * the bump (1.1x, 10x) is still caught. A mixture pays about -log of its weight near the true
 * ratio; the even grid pays it mostly for ratios no policy cares about. Fixed before any data, so
 * the mixture is still a test supermartingale.
 */
export const HARM_PRIOR_CENTER = 2.5;
export const HARM_PRIOR_SD = 0.3;
export const HARM_PRIOR_EVEN_SHARE = 0.05;
export const HARM_GRID_LOG_WEIGHTS: Float64Array = (() => {
  const centre = Math.log(HARM_PRIOR_CENTER);
  const bump = RATIO_GRID_LOG.map((l) => Math.exp(-((l - centre) ** 2) / (2 * HARM_PRIOR_SD ** 2)));
  const total = bump.reduce((a, b) => a + b, 0);
  return bump.map((b) =>
    Math.log((1 - HARM_PRIOR_EVEN_SHARE) * (b / total) + HARM_PRIOR_EVEN_SHARE / RATIO_GRID_SIZE),
  );
})();

/**
 * The restarts a canary step begins: restart j starts at step j, and a step starts every earlier
 * restart not yet started too (they carry no data either way). Every holder of per-restart state
 * (the evidence, the plug-in, the burst excess) starts the same ones, so they stay aligned.
 */
export function restartsBegunAt(step: number, restarts: number): number[] {
  return Array.from({ length: Math.max(0, Math.min(step, restarts - 1) + 1) }, (_, i) => i);
}

/** Which side of the null the alternatives lie on. */
export type RatioDirection = "above" | "below";

/**
 * One test: a null ratio and alternatives on one side of it (null * r_g above, null / r_g below).
 * `prepare(rho)` computes the per-alternative terms a slice needs; several states (the test itself,
 * its projection) then add their counts with `LogLikelihoods.add`.
 */
export class RatioTest {
  readonly nullRatio: number;
  readonly direction: RatioDirection;
  /** log(a_g / r0) per alternative. */
  readonly logFactor: Float64Array;
  private readonly alternatives: Float64Array;
  /** log1p(rho a_g) - log1p(rho r0) for the slice last prepared. */
  readonly slope: Float64Array;

  constructor(nullRatio: number, direction: RatioDirection) {
    if (!(nullRatio > 0) || !Number.isFinite(nullRatio))
      throw new Error(`null ratio must be positive, got ${nullRatio}`);
    this.nullRatio = nullRatio;
    this.direction = direction;
    const sign = direction === "above" ? 1 : -1;
    this.logFactor = RATIO_GRID_LOG.map((l) => sign * l);
    this.alternatives = this.logFactor.map((l) => nullRatio * Math.exp(l));
    this.slope = new Float64Array(RATIO_GRID_SIZE);
  }

  private preparedFor = Number.NaN;

  /** Prepares the slice terms for trials ratio rho = n_T / n_C (> 0); a repeat for the same rho is free. */
  prepare(rho: number): void {
    if (rho === this.preparedFor) return;
    this.preparedFor = rho;
    const base = Math.log1p(rho * this.nullRatio);
    const alternatives = this.alternatives;
    const slope = this.slope;
    for (let g = 0; g < RATIO_GRID_SIZE; g++) slope[g] = Math.log1p(rho * alternatives[g]!) - base;
  }
}

/**
 * One RatioTest per (null, side), shared by every comparison that uses it. A slice's terms depend
 * only on rho, and rho is often the same for many comparisons of one slice (the percentiles of a
 * histogram, ratio metrics over the same trials), so a shared test computes them once.
 */
export class RatioTestPool {
  private readonly tests = new Map<string, RatioTest>();

  get(nullRatio: number, direction: RatioDirection): RatioTest {
    const key = `${direction}:${nullRatio}`;
    let test = this.tests.get(key);
    if (!test) {
      test = new RatioTest(nullRatio, direction);
      this.tests.set(key, test);
    }
    return test;
  }
}

/** Running log-likelihood ratio of every alternative of one test, from one start. */
export class LogLikelihoods {
  readonly values = new Float64Array(RATIO_GRID_SIZE);

  /** Adds a slice with x_T canary events out of m events in both cohorts; `test.prepare` must have run. */
  add(test: RatioTest, xT: number, m: number): void {
    const values = this.values;
    const factor = test.logFactor;
    const slope = test.slope;
    for (let g = 0; g < RATIO_GRID_SIZE; g++) values[g] = values[g]! + xT * factor[g]! - m * slope[g]!;
  }

  /** log of the mixture e-value, log sum_g w_g exp(L_g / temper); `temper` is the dispersion (>= 1). */
  logEvidence(temper = 1): number {
    if (temper === 1) return logSumExp(this.values) + LOG_GRID_WEIGHT;
    return logSumExp(this.values.map((v) => v / temper)) + LOG_GRID_WEIGHT;
  }

  reset(): void {
    this.values.fill(0);
  }
}

/**
 * A mixture e-process that may restart at fixed points (the ladder's steps). Restart j is the
 * process Z^j that stays 1 until step j begins and then multiplies the likelihood ratios of later
 * slices; each Z^j is a test supermartingale because its start is a stopping time. Their mixture
 * E = sum_j v_j Z^j with weights v_j fixed in advance (summing to 1) is one too, so the whole
 * deployment spends one budget. Restart 0 is the whole-deployment test; the later ones keep a
 * regression that begins at a later step from being slowed by evidence of no harm gathered before it.
 *
 * Every restart sees the same slices from its start on, so its log-likelihoods are the cumulative
 * ones minus a snapshot taken when it started: one O(grid) update per slice whatever the restarts.
 *
 * The e-value is read at looks (`look`), the times the policy checks: Ville's inequality bounds
 * the chance of ever crossing at any set of looks, and fewer looks cross less often by chance. A
 * crossing at a look stays a crossing (`logMax`).
 */
export class RestartingRatioEvidence {
  readonly test: RatioTest;
  private readonly logWeights: number[];
  private readonly cumulative = new LogLikelihoods();
  private readonly snapshots: (Float64Array | null)[];
  private readonly terms = new Float64Array(RATIO_GRID_SIZE);
  /** Largest log E seen at a look: a crossing stays a crossing. */
  logMax = 0;

  /** log weight of each alternative; null: equal weights (LOG_GRID_WEIGHT). */
  private readonly gridLogWeights: Float64Array | null;

  constructor(
    test: RatioTest,
    restartWeights: readonly number[],
    gridLogWeights: Float64Array | null = null,
  ) {
    this.test = test;
    this.gridLogWeights = gridLogWeights;
    this.logWeights = restartWeights.map((w) => Math.log(w));
    this.snapshots = restartWeights.map(() => null);
  }

  /** Starts the restarts step j begins (`restartsBegunAt`). */
  begin(j: number): void {
    for (const i of restartsBegunAt(j, this.snapshots.length))
      this.snapshots[i] ??= Float64Array.from(this.cumulative.values);
  }

  /** Adds a slice to every started restart; `test.prepare(rho)` must have run. */
  add(xT: number, m: number): void {
    this.cumulative.add(this.test, xT, m);
  }

  /** A look: log E now (with the dispersion `temper`) joins the running maximum. */
  look(temper = 1, countShifts?: readonly number[]): void {
    const current = this.logEvidence(temper, countShifts);
    if (current > this.logMax) this.logMax = current;
  }

  /** The evidence a report shows: the largest of the looks so far and now. */
  logEvidenceSoFar(temper = 1, countShifts?: readonly number[]): number {
    return Math.max(this.logMax, this.logEvidence(temper, countShifts));
  }

  /**
   * log E now, each log-likelihood divided by `temper` (the dispersion, >= 1). `countShifts[j]`
   * moves restart j's canary count by that many events (never toward the alternatives: <= 0 for
   * alternatives above, >= 0 below), which lowers every alternative's log-likelihood by
   * |shift| |log(a / r0)|: the burst excess set aside (stats/dispersion.ts).
   */
  logEvidence(temper = 1, countShifts?: readonly number[]): number {
    let acc = Number.NEGATIVE_INFINITY;
    const values = this.cumulative.values;
    const factor = this.test.logFactor;
    for (let j = 0; j < this.snapshots.length; j++) {
      const snap = this.snapshots[j];
      let term = this.logWeights[j]!;
      if (snap) {
        const shift = countShifts?.[j] ?? 0;
        for (let g = 0; g < RATIO_GRID_SIZE; g++)
          this.terms[g] = (values[g]! - snap[g]! + shift * factor[g]!) / temper;
        if (this.gridLogWeights) {
          for (let g = 0; g < RATIO_GRID_SIZE; g++) this.terms[g] = this.terms[g]! + this.gridLogWeights[g]!;
          term += logSumExp(this.terms);
        } else term += logSumExp(this.terms) + LOG_GRID_WEIGHT;
      }
      acc = acc > term ? acc + Math.log1p(Math.exp(term - acc)) : term + Math.log1p(Math.exp(acc - term));
    }
    return acc;
  }
}

/** A slice's contribution as kept for the confidence sequence. */
export interface RatioSliceCounts {
  xT: number;
  m: number;
  /** n_T / n_C */
  rho: number;
}

/** Bounds searched for the confidence sequence, as ratios. */
const CS_LOG_LIMIT = Math.log(1e4);
/** Exact refinement steps inside the final lattice cell (when the interpolated ones cannot be used). */
const CS_REFINEMENT_STEPS = 4;
/** Refinement steps on the interpolant (cheap: no pass over the slices). */
const INTERPOLATED_REFINEMENT_STEPS = 8;

/** Grows a packed array to hold at least `n` values. */
function withRoom(a: Float64Array, n: number): Float64Array {
  if (n <= a.length) return a;
  const grown = new Float64Array(Math.max(n, 2 * a.length));
  grown.set(a);
  return grown;
}

/** The three lattices the search reads F on: log r itself, and log r shifted up or down by the grid's start. */
const LATTICE_BASE = 0;
const LATTICE_PLUS = 1;
const LATTICE_MINUS = 2;

/**
 * Anytime-valid confidence sequence for the rate ratio from the same two mixture tests: the lower
 * end is the largest ratio r that the test "ratio <= r" (alternatives above) rejects at
 * `lowThreshold`, the upper end the smallest r that "ratio >= r" (alternatives below) rejects at
 * `highThreshold`. Both e-values are monotone in r, so the ends are found by bisection on log r.
 *
 * The search runs on the lattice of the grid's own spacing, from a rough estimate outwards (a
 * bracket that doubles, then bisection): with log r = i h, every alternative
 * log r + log r_g lands on a fixed lattice too, so F(u) = sum_k m_k log1p(rho_k e^u) is computed
 * once per lattice point (K log1p each) and shared by all alternatives and bisection steps. Inside
 * the bracketing cell, four exact Illinois regula falsi steps place the end (on the rejected side,
 * so the interval never comes out narrower). Iteration counts are fixed by the lattice, so the
 * result is deterministic.
 *
 * The step's slices arrive one look at a time, so the state keeps F at every lattice point a
 * search has visited and adds each new slice's term to them as it arrives (one log1p per kept
 * point, in slice order: the very sums a search from scratch computes). A look then reads the
 * lattice instead of summing every slice again at each point.
 */
export class RatioConfidenceSequence {
  private ms: Float64Array = new Float64Array(64);
  private rhos: Float64Array = new Float64Array(64);
  private count = 0;
  private eventsT = 0;
  private events = 0;
  private expected = 0;
  /** Lattice point (kind, index) -> slot in `latticeExp` / `latticeF`. */
  private readonly slots = new Map<number, number>();
  private latticeExp: Float64Array = new Float64Array(128);
  private latticeF: Float64Array = new Float64Array(128);
  /** F'(u) = sum_k m_k rho_k e^u / (1 + rho_k e^u) at each kept point (for the refinement). */
  private latticeD: Float64Array = new Float64Array(128);
  private readonly terms = new Float64Array(RATIO_GRID_SIZE);

  /** A slice of the step: canary events, events of both cohorts, and n_T / n_C. */
  add(xT: number, m: number, rho: number): void {
    this.eventsT += xT;
    this.events += m;
    this.expected += (m * rho) / (1 + rho);
    if (!(m > 0)) return;
    this.ms = withRoom(this.ms, this.count + 1);
    this.rhos = withRoom(this.rhos, this.count + 1);
    this.ms[this.count] = m;
    this.rhos[this.count++] = rho;
    const exps = this.latticeExp;
    const fs = this.latticeF;
    const ds = this.latticeD;
    for (let slot = 0; slot < this.slots.size; slot++) {
      const x = rho * exps[slot]!;
      fs[slot] = fs[slot]! + m * Math.log1p(x);
      ds[slot] = ds[slot]! + (m * x) / (1 + x);
    }
  }

  get slices(): number {
    return this.count;
  }

  /** F(u) over every slice so far, in slice order. */
  private exactF(u: number): number {
    const eu = Math.exp(u);
    const ms = this.ms;
    const rhos = this.rhos;
    let sum = 0;
    for (let k = 0; k < this.count; k++) sum += ms[k]! * Math.log1p(rhos[k]! * eu);
    return sum;
  }

  /** The slot of a lattice point, its F (and F') kept up to date from its first visit on. */
  private latticeSlot(kind: number, i: number, u: number): number {
    const key = i * 3 + kind;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.slots.size;
      this.latticeExp = withRoom(this.latticeExp, slot + 1);
      this.latticeF = withRoom(this.latticeF, slot + 1);
      this.latticeD = withRoom(this.latticeD, slot + 1);
      const eu = Math.exp(u);
      this.latticeExp[slot] = eu;
      this.latticeF[slot] = this.exactF(u);
      let d = 0;
      for (let k = 0; k < this.count; k++) {
        const x = this.rhos[k]! * eu;
        d += (this.ms[k]! * x) / (1 + x);
      }
      this.latticeD[slot] = d;
      this.slots.set(key, slot);
    }
    return slot;
  }

  private latticeValue(kind: number, i: number, u: number): number {
    // The slot first: making one may move the arrays.
    const slot = this.latticeSlot(kind, i, u);
    return this.latticeF[slot]!;
  }

  /**
   * The interval now. `temper` (the dispersion, >= 1) weighs every event by 1 / temper, as the
   * tests do: each log-likelihood is divided by it.
   *
   * Returns ratios: `low` is 0 when nothing is rejected below, `high` null when nothing is rejected above.
   */
  interval(lowThreshold: number, highThreshold: number, temper = 1): { low: number; high: number | null } {
    if (this.events === 0) return { low: 0, high: null };
    const h = RATIO_GRID_LOG_STEP;
    const eventsT = this.eventsT / temper;
    const expected = this.expected / temper;
    const terms = this.terms;
    const F = (u: number) => this.exactF(u) / temper;
    const cached = (kind: number, i: number, u: number) => this.latticeValue(kind, i, u) / temper;
    // log E of "ratio <= e^(i h)" against alternatives above it.
    const logAbove = (i: number): number => {
      const f0 = cached(LATTICE_BASE, i, i * h);
      for (let g = 0; g < RATIO_GRID_SIZE; g++) {
        const j = i + g;
        terms[g] = eventsT * RATIO_GRID_LOG[g]! - (cached(LATTICE_PLUS, j, LOG_GRID_MIN + j * h) - f0);
      }
      return logSumExp(terms) + LOG_GRID_WEIGHT;
    };
    // log E of "ratio >= e^(i h)" against alternatives below it.
    const logBelow = (i: number): number => {
      const f0 = cached(LATTICE_BASE, i, i * h);
      for (let g = 0; g < RATIO_GRID_SIZE; g++) {
        const j = i - g;
        terms[g] = -eventsT * RATIO_GRID_LOG[g]! - (cached(LATTICE_MINUS, j, -LOG_GRID_MIN + j * h) - f0);
      }
      return logSumExp(terms) + LOG_GRID_WEIGHT;
    };
    // Between two lattice points F is a cubic Hermite interpolant of the kept F and F' at both:
    // |error| <= h^4 / 384 max|F|, and max|F| <= M / 8 (each log1p(rho e^u) has a fourth
    // derivative of at most 1/8), M the events (tempered). The refinement steps on it, aiming a
    // little past the threshold, and the end it settles on is checked with the exact test.
    const latticeOffset = [0, LOG_GRID_MIN, -LOG_GRID_MIN] as const;
    const hermite = (kind: number, j: number, t: number): number => {
      const s0 = this.latticeSlot(kind, j, latticeOffset[kind]! + j * h);
      const s1 = this.latticeSlot(kind, j + 1, latticeOffset[kind]! + (j + 1) * h);
      const t2 = t * t;
      const t3 = t2 * t;
      return (
        ((2 * t3 - 3 * t2 + 1) * this.latticeF[s0]! +
          (t3 - 2 * t2 + t) * h * this.latticeD[s0]! +
          (-2 * t3 + 3 * t2) * this.latticeF[s1]! +
          (t3 - t2) * h * this.latticeD[s1]!) /
        temper
      );
    };
    const interpolatedLog = (u: number, side: 1 | -1, cell: number): number => {
      const t = (u - cell * h) / h;
      const f0 = hermite(LATTICE_BASE, cell, t);
      const kind = side === 1 ? LATTICE_PLUS : LATTICE_MINUS;
      for (let g = 0; g < RATIO_GRID_SIZE; g++) {
        terms[g] = side * eventsT * RATIO_GRID_LOG[g]! - (hermite(kind, cell + side * g, t) - f0);
      }
      return logSumExp(terms) + LOG_GRID_WEIGHT;
    };
    const interpolationError = (2 * h ** 4 * (this.events / temper)) / (384 * 8);
    return searchInterval({
      F,
      logAbove,
      logBelow,
      interpolated: { log: interpolatedLog, margin: 2 * interpolationError + 1e-9 },
      terms,
      eventsT,
      expected,
      lowThreshold,
      highThreshold,
    });
  }
}

/** The confidence sequence of a whole set of slices at once (see RatioConfidenceSequence). */
export function ratioConfidenceSequence(
  slices: readonly RatioSliceCounts[],
  lowThreshold: number,
  highThreshold: number,
): { low: number; high: number | null } {
  const cs = new RatioConfidenceSequence();
  for (const s of slices) cs.add(s.xT, s.m, s.rho);
  return cs.interval(lowThreshold, highThreshold);
}

/** The bracket, bisection and refinement of the interval's two ends, over F and the lattice tests. */
function searchInterval(p: {
  F: (u: number) => number;
  logAbove: (i: number) => number;
  logBelow: (i: number) => number;
  /**
   * A cheap stand-in for exactLog inside a lattice cell, off by less than `margin` (the cell is
   * given by its lower lattice index).
   */
  interpolated?: { log: (u: number, side: 1 | -1, cell: number) => number; margin: number };
  terms: Float64Array;
  eventsT: number;
  expected: number;
  lowThreshold: number;
  highThreshold: number;
}): { low: number; high: number | null } {
  const { F, logAbove, logBelow, interpolated, terms, eventsT, expected, lowThreshold, highThreshold } = p;
  const h = RATIO_GRID_LOG_STEP;
  // The same e-values at any log r, exactly (K log1p per alternative): for the final refinement.
  const exactLog = (u: number, side: 1 | -1): number => {
    const f0 = F(u);
    for (let g = 0; g < RATIO_GRID_SIZE; g++) {
      const l = RATIO_GRID_LOG[g]!;
      terms[g] = side * eventsT * l - (F(u + side * l) - f0);
    }
    return logSumExp(terms) + LOG_GRID_WEIGHT;
  };
  // Illinois regula falsi inside the bracketing lattice cell, a fixed number of steps. The edge of
  // the non-rejected set lies between the two ends; returning the rejected end keeps the interval
  // from ever coming out narrower than the tests make it.
  const illinois = (
    f: (u: number) => number,
    a: number,
    fa: number,
    b: number,
    fb: number,
    target: number,
    steps: number,
  ): number => {
    // a rejects (f >= target), b does not.
    let ga = fa - target;
    let gb = fb - target;
    let side0 = 0;
    for (let i = 0; i < steps; i++) {
      const c = ga === gb ? 0.5 * (a + b) : b - (gb * (b - a)) / (gb - ga);
      const gc = f(c) - target;
      if (gc >= 0) {
        a = c;
        ga = gc;
        if (side0 === 1) gb /= 2;
        side0 = 1;
      } else {
        b = c;
        gb = gc;
        if (side0 === -1) ga /= 2;
        side0 = -1;
      }
    }
    return a;
  };
  // First on the interpolant, aiming `margin` past the threshold so that the end it finds rejects
  // on the exact test too; that is checked (one exact evaluation), and only if the check fails (it
  // cannot while the error bound holds) does the refinement run on the exact test itself.
  const refine = (
    reject: number,
    fReject: number,
    accept: number,
    fAccept: number,
    side: 1 | -1,
    target: number,
  ) => {
    const a = reject * h;
    const b = accept * h;
    if (interpolated) {
      if (fReject < target + interpolated.margin) return a;
      const cell = Math.min(reject, accept);
      const end = illinois(
        (u) => interpolated.log(u, side, cell),
        a,
        fReject,
        b,
        fAccept,
        target + interpolated.margin,
        INTERPOLATED_REFINEMENT_STEPS,
      );
      if (end === a || exactLog(end, side) >= target) return end;
    }
    return illinois((u) => exactLog(u, side), a, fReject, b, fAccept, target, CS_REFINEMENT_STEPS);
  };

  const iMax = Math.ceil(CS_LOG_LIMIT / h);
  const iMin = -iMax;
  const logLow = Math.log(lowThreshold);
  const logHigh = Math.log(highThreshold);
  // Start from the rough estimate log(observed / expected canary events at ratio 1): the ends are
  // usually within a few lattice cells of it, so expanding a bracket from there by doubling visits
  // far fewer lattice points than bisecting the whole range.
  const iHat = Math.max(iMin, Math.min(iMax, Math.round(Math.log((eventsT + 0.5) / (expected + 0.5)) / h)));

  /**
   * The boundary of a monotone test on the lattice: the last index where `rejects` holds when it
   * holds below (`decreasing`), or the first where it holds above. Returns null when no index in
   * range rejects, or the bracketing pair with their log e-values.
   */
  const bracket = (
    f: (i: number) => number,
    target: number,
    decreasing: boolean,
  ): { reject: number; fReject: number; accept: number; fAccept: number } | "all" | null => {
    const rejects = (v: number) => v >= target;
    let a = iHat;
    let fa = f(a);
    // Walk away from the rejection region until accepting, then toward it until rejecting.
    const away = decreasing ? 1 : -1;
    const limitAway = decreasing ? iMax : iMin;
    const limitToward = decreasing ? iMin : iMax;
    let width = 4;
    if (rejects(fa)) {
      let b = a;
      let fb = fa;
      while (rejects(fb)) {
        if (b === limitAway) return "all";
        a = b;
        fa = fb;
        b = decreasing ? Math.min(limitAway, b + away * width) : Math.max(limitAway, b + away * width);
        fb = f(b);
        width *= 2;
      }
      return narrow(f, target, a, fa, b, fb);
    }
    let b = a;
    let fb = fa;
    while (!rejects(fb)) {
      if (b === limitToward) return null;
      a = b;
      fa = fb;
      b = decreasing ? Math.max(limitToward, b - away * width) : Math.min(limitToward, b - away * width);
      fb = f(b);
      width *= 2;
    }
    return narrow(f, target, b, fb, a, fa);
  };
  /** Bisection on lattice indices between a rejecting and an accepting index. */
  const narrow = (
    f: (i: number) => number,
    target: number,
    reject: number,
    fReject: number,
    accept: number,
    fAccept: number,
  ) => {
    while (Math.abs(accept - reject) > 1) {
      const mid = Math.floor((reject + accept) / 2);
      const v = f(mid);
      if (v >= target) {
        reject = mid;
        fReject = v;
      } else {
        accept = mid;
        fAccept = v;
      }
    }
    return { reject, fReject, accept, fAccept };
  };

  // Lower end: log E_above decreases in log r; the edge of the rejected ratios below.
  let low: number;
  const lower = bracket(logAbove, logLow, true);
  if (lower === null) low = 0;
  else if (lower === "all") low = Math.exp(iMax * h);
  else low = Math.exp(refine(lower.reject, lower.fReject, lower.accept, lower.fAccept, 1, logLow));

  // Upper end: log E_below increases in log r; the edge of the rejected ratios above.
  let high: number | null;
  const upper = bracket(logBelow, logHigh, false);
  if (upper === null) high = null;
  else if (upper === "all") high = Math.exp(iMin * h);
  else high = Math.exp(refine(upper.reject, upper.fReject, upper.accept, upper.fAccept, -1, logHigh));
  return { low, high };
}

/**
 * How many more canary trials until a test's e-value would reach `threshold`, if every future
 * trial contributed what the average trial so far contributed in expectation: `perTrial[g]` is the
 * expected log-likelihood ratio per canary trial of alternative g (the projection state divided by
 * the trials behind it). Solves sum_g w_g exp(N c_g) = threshold for N by bisection on log N.
 * It is the n at which the e-value reaches the threshold when the data match their expectation
 * exactly; a real run crosses later about half of the time. Null when no alternative gains.
 *
 * `start` (log-likelihoods already gathered, default none) makes it "how many more from here":
 * sum_g w_g exp(start_g + N c_g) = threshold.
 */
export function trialsToThreshold(
  perTrial: Float64Array,
  threshold: number,
  start?: Float64Array,
): number | null {
  const target = Math.log(threshold);
  const from = (g: number): number => (start ? start[g]! : 0);
  // The first alternative to reach the target on its own gives an upper bound.
  let hi = Number.POSITIVE_INFINITY;
  for (let g = 0; g < perTrial.length; g++) {
    const c = perTrial[g]!;
    if (c > 0) hi = Math.min(hi, Math.max(0, (target - LOG_GRID_WEIGHT - from(g)) / c));
  }
  if (!Number.isFinite(hi)) return null;
  const terms = new Float64Array(perTrial.length);
  const logE = (n: number): number => {
    for (let g = 0; g < perTrial.length; g++) terms[g] = from(g) + n * perTrial[g]!;
    return logSumExp(terms) + LOG_GRID_WEIGHT;
  };
  let lo = 0;
  if (logE(0) >= target) return 0;
  if (logE(hi) < target) return hi;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (logE(mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

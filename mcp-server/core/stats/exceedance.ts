// Percentiles as exceedance counts (docs/statistics.md "Latency").
//
// A percentile comparison becomes a count comparison: fix a threshold c before the slice is seen
// (the control's q-quantile over earlier slices, on a bucket bound), then count the canary's
// samples above c + delta and the control's above c. If the canary's q-quantile is at most the
// control's plus delta, P_canary(X > c + delta) <= P_control(X > c): the conditional binomial of
// the ratio e-process with null ratio 1 applies unchanged, with the histogram sample counts as the
// trials. (Counting both cohorts above c + delta would test a tolerance of zero at a higher
// threshold.) Bucket counts are exact, so the thresholds sit on bucket bounds: a target between
// bounds moves to the neighbouring bound on the conservative side, and the row reports the
// tolerance actually tested.
//
// Conditioning on the sample counts makes x_T | m hypergeometric when the samples are fixed, not
// Poisson; the binomial likelihood ratio is still a supermartingale then (sampling without
// replacement is dominated in convex order, Hoeffding 1963), so common events such as the
// exceedance of a median are tested conservatively, not wrongly.

/** Relative slack when matching a target to a bound (float noise in c + delta). */
const BOUND_MATCH = 1e-9;

/** Index of the smallest bound >= target, or -1 when the target is above the last bound. */
export function snapUp(bounds: ArrayLike<number>, target: number): number {
  const slack = BOUND_MATCH * Math.max(1, Math.abs(target));
  for (let i = 0; i < bounds.length; i++) if (bounds[i]! >= target - slack) return i;
  return -1;
}

/** Index of the largest bound <= target, or -1 when the target is below the first bound. */
export function snapDown(bounds: ArrayLike<number>, target: number): number {
  const slack = BOUND_MATCH * Math.max(1, Math.abs(target));
  for (let i = bounds.length - 1; i >= 0; i--) if (bounds[i]! <= target + slack) return i;
  return -1;
}

/** Samples above bounds[index]: the buckets after it, overflow included. */
export function countAbove(counts: ArrayLike<number>, index: number): number {
  let n = 0;
  for (let i = index + 1; i < counts.length; i++) n += counts[i]!;
  return n;
}

/** Suffix sums: above[i] = samples above bounds[i] (length bounds.length). */
export function countsAbove(counts: ArrayLike<number>, out: Float64Array): Float64Array {
  let running = 0;
  for (let i = counts.length - 1; i >= 1; i--) {
    running += counts[i]!;
    out[i - 1] = running;
  }
  return out;
}

/**
 * Index of the bound at the top of the bucket that holds the q-quantile of `counts` (the smallest
 * bound with at least q of the samples at or below it); -1 when the quantile is in the overflow
 * bucket or there are no samples. The threshold c is then the bound, which keeps
 * P_control(X > c) <= 1 - q.
 */
export function quantileBoundIndex(counts: ArrayLike<number>, total: number, q: number): number {
  if (total <= 0) return -1;
  const need = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length - 1; i++) {
    cumulative += counts[i]!;
    if (cumulative >= need * (1 - 1e-12)) return i;
  }
  return -1;
}

/** A shift of the threshold: `absolute` in the series' unit, or `relative` to the threshold. */
export interface ThresholdShift {
  kind: "absolute" | "relative";
  amount: number;
}

/**
 * Where the canary is counted, for a control threshold c and a shift: c + s (or c + |c| s for a
 * relative shift), snapped to a bound in the conservative direction `snap`. The sign of the
 * amount says which way the threshold moves.
 */
export function shiftedBoundIndex(
  bounds: ArrayLike<number>,
  c: number,
  shift: ThresholdShift,
  sign: 1 | -1,
  snap: "up" | "down",
): number {
  const delta = shift.kind === "absolute" ? shift.amount : Math.abs(c) * shift.amount;
  const target = c + sign * delta;
  return snap === "up" ? snapUp(bounds, target) : snapDown(bounds, target);
}

/** The shift actually tested once the target moved to a bound, in the shift's own kind. */
export function effectiveShift(c: number, bound: number, kind: "absolute" | "relative"): number {
  if (kind === "absolute") return Math.abs(bound - c);
  return c === 0 ? 0 : Math.abs(bound - c) / Math.abs(c);
}

/** Tail samples the canary needs in the current step before a q-quantile is judged. */
export const MIN_TAIL_SAMPLES = 25;

/**
 * Tail sufficiency: judge a q-quantile only when n (1 - q) >= 25 for the canary's samples in the
 * current step. Returns how many more samples it needs (0 when it has enough).
 */
export function tailSamplesNeeded(n: number, q: number): number {
  // The relative slack absorbs float noise: 25 / (1 - 0.999) is 25000.00000000002.
  const required = Math.ceil((MIN_TAIL_SAMPLES / (1 - q)) * (1 - 1e-12));
  return Math.max(0, required - n);
}

/**
 * The control's recent history for a percentile's threshold: bucket counts summed over the
 * earlier slices of an adaptive window, the shortest one that is at least `minSpanMs` long and
 * holds `tailTarget` samples beyond the percentile, and never longer than `maxSpanMs`. A busy
 * service then follows drift and forgets an incident within minutes; a quiet one looks further
 * back to have a usable tail. Slices are added in time order after the thresholds for their own
 * slice were taken, so a threshold never depends on the slice it judges.
 */
export class RollingHistogram {
  readonly sum: Float64Array;
  total = 0;
  private readonly entries: { t: number; counts: ArrayLike<number>; total: number }[] = [];
  private head = 0;

  constructor(
    buckets: number,
    private readonly window: { minSpanMs: number; maxSpanMs: number; q: number; tailTarget: number },
  ) {
    this.sum = new Float64Array(buckets);
  }

  private dropHead(): void {
    const e = this.entries[this.head]!;
    for (let i = 0; i < e.counts.length; i++) this.sum[i] = this.sum[i]! - e.counts[i]!;
    this.total -= e.total;
    this.head++;
  }

  /** Moves the window to end at `t`: drops what is too old, then what is not needed. */
  advance(t: number): void {
    const { minSpanMs, maxSpanMs, q, tailTarget } = this.window;
    while (this.head < this.entries.length && this.entries[this.head]!.t < t - maxSpanMs) this.dropHead();
    while (this.head < this.entries.length) {
      const oldest = this.entries[this.head]!;
      if (oldest.t >= t - minSpanMs || (this.total - oldest.total) * (1 - q) < tailTarget) break;
      this.dropHead();
    }
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Adds a slice's counts; the array is kept (not copied) until the slice leaves the window, so it must not change. */
  add(t: number, counts: ArrayLike<number>): void {
    let total = 0;
    for (let i = 0; i < counts.length; i++) {
      this.sum[i] = this.sum[i]! + counts[i]!;
      total += counts[i]!;
    }
    this.total += total;
    this.entries.push({ t, counts, total });
  }
}

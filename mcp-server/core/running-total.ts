// Slices carry increments. A sender that forwards a running total instead (a Prometheus counter's
// raw value) inflates every denominator by the whole history and can turn a regression into a
// promotion, so the door refuses series that look like running totals.
//
// A running total never falls, and it grows by one slice's worth of traffic per slice: its steps
// are steady while the value keeps growing (a counter started at zero), or its steps are tiny
// next to the value (a counter that started long ago). Real per-slice traffic is noisy: it falls
// now and then, and when it grows it grows in proportion to itself. A run is only judged after
// RUN_MIN slices without a single fall, so a ramp with ordinary noise never qualifies.

/** One counter value of one (cohort, segment, series, instance), at slice start t (ms). */
export interface CounterPoint {
  t: number;
  v: number;
}

/** Consecutive strictly rising slices needed before a series can be called a running total. */
export const RUN_MIN = 12;
/** A value at least this many of its own steps is "many slices' worth" (a counter that started long ago). */
const STEPS_PER_VALUE = 20;
/**
 * Tiny steps alone are also what a large, smoothly growing service shows, so that shape needs a
 * longer unbroken rise before it is called a running total.
 */
const RUN_MIN_TINY_STEPS = 20;

export interface RunningTotalRun {
  from: number;
  to: number;
  first: number;
  last: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Kendall's tau of xs against their order: +1 when they only grow, about 0 when they wander. */
function trend(xs: number[]): number {
  let score = 0;
  for (let i = 0; i < xs.length; i++)
    for (let j = i + 1; j < xs.length; j++) score += Math.sign(xs[j]! - xs[i]!);
  return score / ((xs.length * (xs.length - 1)) / 2);
}

/** Whether one strictly rising run of consecutive slices looks like a running total. */
function runLooksCumulative(run: CounterPoint[]): boolean {
  const steps = run.slice(1).map((p, i) => p.v - run[i]!.v);
  // Tiny steps next to the value: every value holds many slices' worth of its own steps, and the
  // steps do not themselves keep growing (a smooth ramp's steps grow with it; a running total's
  // steps are the per-slice traffic, which wanders).
  if (
    run.length >= RUN_MIN_TINY_STEPS &&
    trend(steps.slice(0, 100)) < 0.6 &&
    run.slice(1).every((p, i) => p.v >= STEPS_PER_VALUE * steps[i]!)
  )
    return true;
  // Steady steps while the value grows: traffic that grows has steps that grow with it.
  const half = steps.length >> 1;
  const stepGrowth = median(steps.slice(half)) / median(steps.slice(0, half));
  const values = run.slice(1).map((p) => p.v);
  const valueGrowth = median(values.slice(half)) / median(values.slice(0, half));
  return valueGrowth >= 1.5 && stepGrowth <= Math.sqrt(valueGrowth);
}

/**
 * The first run in `points` (sorted by t, one per slice) that looks like a running total and
 * contains a time in `fresh` (only new data is refused; what was accepted stays), else undefined.
 */
export function findRunningTotal(
  points: CounterPoint[],
  width: number,
  fresh: (t: number) => boolean = () => true,
): RunningTotalRun | undefined {
  let start = 0;
  for (let k = 1; k <= points.length; k++) {
    const rising =
      k < points.length && points[k]!.t === points[k - 1]!.t + width && points[k]!.v > points[k - 1]!.v;
    if (rising) continue;
    // A counter's first slice at zero says nothing about steps: judge from the first positive value.
    const run = points.slice(points[start]!.v > 0 ? start : start + 1, k);
    if (run.length >= RUN_MIN && run.some((p) => fresh(p.t)) && runLooksCumulative(run)) {
      return { from: run[0]!.t, to: run[run.length - 1]!.t, first: run[0]!.v, last: run[run.length - 1]!.v };
    }
    start = k;
  }
  return undefined;
}

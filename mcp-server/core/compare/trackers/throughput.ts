import type { ThroughputMetricPolicy } from "../../policy/schema.js";
import { CountComparison } from "../count-comparison.js";
import type { SliceTotals } from "../series.js";
import { noDataReason } from "../status.js";
import { judgeCounts, MIN_EXPECTED_EVENTS, ratioInterval } from "./count-row.js";
import {
  absoluteDifference,
  type MetricTracker,
  marginOf,
  type RowContext,
  relativeDifference,
  type SliceContext,
  type TrackerEnv,
  type TrackerRow,
  toleranceOf,
} from "./types.js";

// A throughput metric (a counter such as orders placed): per unit of traffic share, does the
// canary produce as much as the control? It is the ratio test with the expected shares as trials,
// n_T = p and n_C = 1 - p: the ratio compared is (canary count / p) / (control count / (1 - p)).
// A harm is a drop for `bad: decrease` (tested against 1 - d, alternatives below) and a rise for
// `bad: increase` (1 + d, alternatives above). A traffic split that is off (see the split check)
// biases this comparison, which is one more reason a mismatch holds the step.

/** A relative decrease of 100% or more is read as this ratio (a null must stay positive). */
const SMALLEST_RATIO = 1e-3;

interface WindowTotals {
  canarySlices: number;
  controlSlices: number;
  compared: number;
  canaryCount: number;
  controlCount: number;
  share: number;
}

function emptyWindow(): WindowTotals {
  return { canarySlices: 0, controlSlices: 0, compared: 0, canaryCount: 0, controlCount: 0, share: 0 };
}

export class ThroughputTracker implements MetricTracker {
  readonly counts: CountComparison;
  private window: WindowTotals = emptyWindow();
  private windowOrdinal = -1;
  private readonly tolerance: number;
  private readonly margin: number;

  constructor(
    private readonly metric: ThroughputMetricPolicy,
    private readonly env: TrackerEnv,
  ) {
    this.tolerance = toleranceOf(metric).amount;
    this.margin = marginOf(metric).amount;
    const up = metric.bad === "increase";
    const harm = up ? 1 + this.tolerance : Math.max(SMALLEST_RATIO, 1 - this.tolerance);
    const margin = up ? 1 + this.margin : Math.max(SMALLEST_RATIO, 1 - this.margin);
    this.counts = new CountComparison(
      {
        harm: { nullRatio: harm, direction: up ? "above" : "below" },
        improvement: { nullRatio: 1 / harm, direction: up ? "below" : "above" },
        margin: { nullRatio: margin, direction: up ? "below" : "above" },
      },
      env,
      true,
    );
  }

  observe(ctx: SliceContext, totals: SliceTotals): void {
    if (!ctx.judged) return;
    const canary = totals.canary.counters.get(this.metric.series);
    const control = totals.control.counters.get(this.metric.series);
    if (canary === undefined && control === undefined) return;
    if (this.windowOrdinal !== ctx.span.ordinal) {
      this.windowOrdinal = ctx.span.ordinal;
      this.window = emptyWindow();
    }
    this.counts.enterStep(ctx.span.ordinal, ctx.span.step);
    const w = this.window;
    if (canary !== undefined) w.canarySlices++;
    if (control !== undefined) w.controlSlices++;
    const p = ctx.span.percent / 100;
    if (canary === undefined || control === undefined || !(p > 0 && p < 1)) return;
    w.compared++;
    w.canaryCount += canary;
    w.controlCount += control;
    w.share = p;
    const rho = p / (1 - p);
    const m = canary + control;
    this.counts.add({
      rho,
      xC: control,
      xTHarm: canary,
      xTImprovement: canary,
      xTMargin: canary,
      projectedXT: m * p,
      projectedXC: m * (1 - p),
      canaryScale: canary,
      expectedCanaryEvents: m * p,
    });
  }

  look(): void {
    this.counts.look();
  }

  rows(ctx: RowContext): TrackerRow[] {
    const current = this.windowOrdinal === ctx.ordinal;
    const w = current ? this.window : emptyWindow();
    const noData = noDataReason(w.canarySlices, w.controlSlices, this.metric.series);
    const step = this.counts.isCurrent(ctx.ordinal) ? this.counts.step : undefined;
    const expected = step?.expectedCanaryEvents ?? 0;
    let belowMinimum: string | null = null;
    let extraNeeded = 0;
    if (noData === null && w.share > 0 && expected < MIN_EXPECTED_EVENTS) {
      belowMinimum = `expected canary count on this step ${expected.toFixed(1)} < ${MIN_EXPECTED_EVENTS}: too few to test`;
      extraNeeded = Math.max(0, Math.ceil(MIN_EXPECTED_EVENTS - expected));
    } else if (noData === null && w.share === 0) {
      belowMinimum = "no control traffic at this percent: throughput cannot be compared";
    }
    const judgment = judgeCounts(this.counts, ctx, noData, belowMinimum, extraNeeded);
    // Per second, per whole of traffic: count / share / seconds of compared slices.
    const seconds = (w.compared * this.env.sliceMs) / 1000;
    const canaryValue = seconds > 0 && w.share > 0 ? w.canaryCount / w.share / seconds : null;
    const controlValue =
      seconds > 0 && w.share < 1 && w.share > 0 ? w.controlCount / (1 - w.share) / seconds : null;
    const interval = ratioInterval(this.counts, ctx);
    return [
      {
        statistic: "throughput",
        canary: { value: canaryValue, count: w.canaryCount },
        control: { value: controlValue, count: w.controlCount },
        abs_diff: absoluteDifference(canaryValue, controlValue),
        rel_diff: relativeDifference(canaryValue, controlValue),
        ci_low: interval.ci_low,
        ci_high: interval.ci_high,
        interval_scale: "relative",
        ...judgment,
        tolerance: this.tolerance,
        margin: this.margin,
        note: `${judgment.note}; values are per second per whole of traffic (count / share / seconds)`,
      },
    ];
  }
}

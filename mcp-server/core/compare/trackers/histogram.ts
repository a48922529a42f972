import type { HistogramMetricPolicy } from "../../policy/schema.js";
import { percentileLabel } from "../../stats/budget.js";
import {
  countsAbove,
  effectiveShift,
  quantileBoundIndex,
  RollingHistogram,
  snapDown,
  snapUp,
  tailSamplesNeeded,
} from "../../stats/exceedance.js";
import { histogramQuantile, histogramQuantileInterval } from "../../stats/quantiles.js";
import { CountComparison } from "../count-comparison.js";
import type { SliceTotals } from "../series.js";
import { noDataReason } from "../status.js";
import { judgeCounts } from "./count-row.js";
import {
  absoluteDifference,
  type MetricTracker,
  marginOf,
  type RowContext,
  relativeDifference,
  type Shift,
  type SliceContext,
  type TrackerEnv,
  type TrackerRow,
  toleranceOf,
} from "./types.js";

// A histogram metric, one row per percentile, each judged by exceedance counts (stats/exceedance.ts):
// before a slice is seen, c = the control's q-quantile over earlier slices (an adaptive window per
// percentile: at least 10 minutes, enough tail samples, at most an hour), on a bucket bound. Then,
// with bad: increase,
//   harm:        canary above c + tolerance (snapped up)   vs control above c, alternatives above 1
//   improvement: canary above c - tolerance (snapped down) vs control above c, alternatives below 1
//   margin:      canary above c + margin (snapped down)    vs control above c, alternatives below 1
// and the mirror image for bad: decrease. Snapping always moves toward the harder-to-prove side,
// so the tolerance tested is at least the policy's and the margin at most the policy's.
// A relative shift d moves the threshold to c (1 + d) (or c / (1 + d) for the improvement).

/** The earlier control data must hold this many samples beyond the quantile before c is trusted. */
const MIN_THRESHOLD_TAIL = 5;

interface PercentileState {
  q: number;
  /** The control's earlier slices behind this percentile's threshold. */
  rolling: RollingHistogram | null;
  label: string;
  counts: CountComparison;
  effectiveTolerance: number | null;
  effectiveMargin: number | null;
  /** Judged slices of the current step that had data but no threshold (no earlier control data). */
  withoutThreshold: number;
  thresholdOrdinal: number;
}

interface WindowTotals {
  canarySlices: number;
  controlSlices: number;
  canary: Float64Array | null;
  control: Float64Array | null;
}

function emptyWindow(): WindowTotals {
  return { canarySlices: 0, controlSlices: 0, canary: null, control: null };
}

function addCounts(target: Float64Array | null, counts: ArrayLike<number>): Float64Array {
  if (!target) return Float64Array.from(counts);
  for (let i = 0; i < target.length; i++) target[i] = target[i]! + counts[i]!;
  return target;
}

function sum(counts: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  return n;
}

export class HistogramTracker implements MetricTracker {
  private initialized = false;
  private readonly percentiles: PercentileState[];
  private window: WindowTotals = emptyWindow();
  private windowOrdinal = -1;
  private readonly tolerance: Shift;
  private readonly margin: Shift;
  private readonly increase: boolean;
  private aboveCanary = new Float64Array(0);
  private aboveControl = new Float64Array(0);

  constructor(
    private readonly metric: HistogramMetricPolicy,
    private readonly env: TrackerEnv,
  ) {
    this.tolerance = toleranceOf(metric);
    this.margin = marginOf(metric);
    this.increase = metric.bad === "increase";
    const up = this.increase;
    this.percentiles = metric.percentiles.map((p) => ({
      q: p / 100,
      rolling: null,
      label: percentileLabel(p),
      counts: new CountComparison(
        {
          harm: { nullRatio: 1, direction: up ? "above" : "below" },
          improvement: { nullRatio: 1, direction: up ? "below" : "above" },
          margin: { nullRatio: 1, direction: up ? "below" : "above" },
        },
        env,
        false,
      ),
      effectiveTolerance: null,
      effectiveMargin: null,
      withoutThreshold: 0,
      thresholdOrdinal: -1,
    }));
  }

  private shiftAmount(shift: Shift, c: number): number {
    return shift.kind === "absolute" ? shift.amount : Math.abs(c) * shift.amount;
  }

  /** Bound indices where the canary is counted for each test, for a control threshold c. */
  private canaryBounds(
    bounds: readonly number[],
    c: number,
  ): { harm: number; improvement: number; margin: number } {
    const tol = this.shiftAmount(this.tolerance, c);
    const mar = this.shiftAmount(this.margin, c);
    // c / (1 + d) for a relative improvement on the increase side: symmetric on the log scale.
    const better =
      this.tolerance.kind === "absolute"
        ? tol
        : (Math.abs(c) * this.tolerance.amount) / (1 + this.tolerance.amount);
    if (this.increase) {
      return {
        harm: snapUp(bounds, c + tol),
        improvement: snapDown(bounds, c - better),
        margin: snapDown(bounds, c + mar),
      };
    }
    return {
      harm: snapDown(bounds, c - tol),
      improvement: snapUp(bounds, c + tol),
      margin: snapUp(bounds, c - mar),
    };
  }

  observe(ctx: SliceContext, totals: SliceTotals): void {
    const series = this.metric.series;
    const canaryH = totals.canary.histograms.get(series);
    const controlH = totals.control.histograms.get(series);
    if (!canaryH && !controlH) return;
    const bounds = this.env.registry.boundsOf(series);
    if (!bounds) return;
    if (!this.initialized) {
      this.initialized = true;
      for (const p of this.percentiles) {
        p.rolling = new RollingHistogram(bounds.length + 1, { ...this.env.thresholdWindow, q: p.q });
      }
      this.aboveCanary = new Float64Array(bounds.length);
      this.aboveControl = new Float64Array(bounds.length);
    }
    for (const p of this.percentiles) p.rolling!.advance(ctx.t);
    if (ctx.judged) {
      if (this.windowOrdinal !== ctx.span.ordinal) {
        this.windowOrdinal = ctx.span.ordinal;
        this.window = emptyWindow();
      }
      const w = this.window;
      if (canaryH) {
        w.canarySlices++;
        w.canary = addCounts(w.canary, canaryH);
      }
      if (controlH) {
        w.controlSlices++;
        w.control = addCounts(w.control, controlH);
      }
      for (const p of this.percentiles) {
        p.counts.enterStep(ctx.span.ordinal, ctx.span.step);
        if (p.thresholdOrdinal !== ctx.span.ordinal) {
          p.thresholdOrdinal = ctx.span.ordinal;
          p.withoutThreshold = 0;
        }
      }
      if (canaryH && controlH) this.compare(canaryH, controlH, bounds);
    }
    if (controlH) for (const p of this.percentiles) p.rolling!.add(ctx.t, controlH);
  }

  private compare(canaryH: ArrayLike<number>, controlH: ArrayLike<number>, bounds: readonly number[]): void {
    const nT = sum(canaryH);
    const nC = sum(controlH);
    if (nT <= 0 || nC <= 0) return;
    const aboveT = countsAbove(canaryH, this.aboveCanary);
    const aboveC = countsAbove(controlH, this.aboveControl);
    const rho = nT / nC;
    for (const p of this.percentiles) {
      const rolling = p.rolling!;
      const jc =
        rolling.total * (1 - p.q) >= MIN_THRESHOLD_TAIL
          ? quantileBoundIndex(rolling.sum, rolling.total, p.q)
          : -1;
      if (jc < 0) {
        p.withoutThreshold++;
        continue;
      }
      const c = bounds[jc]!;
      const at = this.canaryBounds(bounds, c);
      const xC = aboveC[jc]!;
      if (at.harm >= 0) p.effectiveTolerance = effectiveShift(c, bounds[at.harm]!, this.tolerance.kind);
      if (at.margin >= 0) p.effectiveMargin = effectiveShift(c, bounds[at.margin]!, this.margin.kind);
      const projectedXT = at.margin >= 0 ? (nT * aboveC[at.margin]!) / nC : 0;
      p.counts.add({
        rho,
        xC,
        xTHarm: at.harm >= 0 ? aboveT[at.harm]! : null,
        xTImprovement: at.improvement >= 0 ? aboveT[at.improvement]! : null,
        xTMargin: at.margin >= 0 ? aboveT[at.margin]! : null,
        projectedXT: at.margin >= 0 ? projectedXT : 0,
        projectedXC: at.margin >= 0 ? xC : 0,
        canaryScale: nT,
        expectedCanaryEvents: (nT * xC) / nC,
      });
    }
  }

  look(): void {
    for (const p of this.percentiles) p.counts.look();
  }

  rows(ctx: RowContext): TrackerRow[] {
    const bounds = this.env.registry.boundsOf(this.metric.series) ?? [];
    const current = this.windowOrdinal === ctx.ordinal;
    const w = current ? this.window : emptyWindow();
    const noData = noDataReason(w.canarySlices, w.controlSlices, this.metric.series);
    const canaryTotal = w.canary ? sum(w.canary) : 0;
    const controlTotal = w.control ? sum(w.control) : 0;
    const level = 1 - ctx.alpha / 2;
    return this.percentiles.map((p) => {
      const canaryQ = w.canary ? histogramQuantile(bounds, w.canary, p.q) : null;
      const controlQ = w.control ? histogramQuantile(bounds, w.control, p.q) : null;
      const stepCounts = p.counts.isCurrent(ctx.ordinal) ? p.counts.step : undefined;
      const tailNeeded = tailSamplesNeeded(canaryTotal, p.q);
      let belowMinimum: string | null = null;
      if (tailNeeded > 0) {
        belowMinimum = `${p.label} needs ${canaryTotal + tailNeeded} canary samples on this step (25 beyond the percentile), has ${canaryTotal}`;
      } else if (!stepCounts || stepCounts.slices === 0) {
        belowMinimum = "no earlier control data yet to set the percentile's threshold";
      }
      const judgment = judgeCounts(p.counts, ctx, noData, belowMinimum, tailNeeded);
      const canaryValue = canaryQ?.value ?? null;
      const controlValue = controlQ?.value ?? null;
      let ciLow: number | null = null;
      let ciHigh: number | null = null;
      let canaryCi: { low: number; high: number } | null = null;
      let controlCi: { low: number; high: number } | null = null;
      if (ctx.intervals && w.canary && w.control) {
        canaryCi = histogramQuantileInterval(bounds, w.canary, p.q, level);
        controlCi = histogramQuantileInterval(bounds, w.control, p.q, level);
        if (canaryCi && controlCi) {
          ciLow = canaryCi.low - controlCi.high;
          ciHigh = canaryCi.high - controlCi.low;
          if (this.tolerance.kind === "relative") {
            ciLow = controlValue ? ciLow / Math.abs(controlValue) : null;
            ciHigh = controlValue ? ciHigh / Math.abs(controlValue) : null;
          }
        }
      }
      const notes = [judgment.note];
      if (canaryQ?.openEnded || controlQ?.openEnded) {
        notes.push(
          `a ${p.label} beyond the last bucket bound (${bounds[bounds.length - 1]}) is shown as that bound: a floor`,
        );
      }
      if (
        p.effectiveTolerance !== null &&
        Math.abs(p.effectiveTolerance - this.tolerance.amount) > 1e-9 * Math.max(1, this.tolerance.amount)
      ) {
        notes.push(
          `tolerance tested ${formatShift(p.effectiveTolerance, this.tolerance.kind)} (the next bucket bound)`,
        );
      }
      if (stepCounts && p.withoutThreshold > 0 && stepCounts.slices > 0) {
        notes.push(
          `${p.withoutThreshold} slice(s) on this step had no earlier control data for the threshold and were not counted`,
        );
      }
      if (canaryCi && controlCi) {
        notes.push(
          "interval: order-statistic bounds for each cohort on this step (not anytime-valid; display only)",
        );
      }
      const row: TrackerRow = {
        statistic: p.label,
        canary: {
          value: canaryValue,
          count: canaryTotal,
          events: stepCounts?.canaryEvents ?? 0,
          ci_low: canaryCi?.low ?? null,
          ci_high: canaryCi?.high ?? null,
        },
        control: {
          value: controlValue,
          count: controlTotal,
          events: stepCounts?.controlEvents ?? 0,
          ci_low: controlCi?.low ?? null,
          ci_high: controlCi?.high ?? null,
        },
        abs_diff: absoluteDifference(canaryValue, controlValue),
        rel_diff: relativeDifference(canaryValue, controlValue),
        ci_low: ciLow,
        ci_high: ciHigh,
        interval_scale: this.tolerance.kind,
        ...judgment,
        tolerance: this.tolerance.amount,
        margin: this.margin.amount,
        note: notes.join("; "),
      };
      if (p.effectiveTolerance !== null) row.effective_tolerance = p.effectiveTolerance;
      if (p.effectiveMargin !== null) row.effective_margin = p.effectiveMargin;
      return row;
    });
  }
}

function formatShift(v: number, kind: "absolute" | "relative"): string {
  return kind === "relative" ? `${Number((v * 100).toPrecision(4))}%` : `${Number(v.toPrecision(6))}`;
}

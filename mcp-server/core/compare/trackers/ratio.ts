import type { RatioMetricPolicy } from "../../policy/schema.js";
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

// A ratio metric (events / trials): the bad events are the events, or for `bad: decrease` the
// complement (trials - events), which turns "success rate fell" into "failure rate rose", a rare
// event the conditional binomial handles exactly. The relative tolerance d tests
// H0: ratio <= 1 + d against alternatives (1 + d) r_g; the margin m is the mirror test
// H0: ratio >= 1 + m against (1 + m) / r_g; "improvement" is H0: ratio >= 1 / (1 + d).

interface WindowTotals {
  canarySlices: number;
  controlSlices: number;
  canaryTrials: number;
  canaryBad: number;
  controlTrials: number;
  controlBad: number;
}

function emptyWindow(): WindowTotals {
  return {
    canarySlices: 0,
    controlSlices: 0,
    canaryTrials: 0,
    canaryBad: 0,
    controlTrials: 0,
    controlBad: 0,
  };
}

export class RatioTracker implements MetricTracker {
  readonly counts: CountComparison;
  window: WindowTotals = emptyWindow();
  private windowOrdinal = -1;
  private readonly tolerance: number;
  private readonly margin: number;

  constructor(
    private readonly metric: RatioMetricPolicy,
    env: TrackerEnv,
  ) {
    this.tolerance = toleranceOf(metric).amount;
    this.margin = marginOf(metric).amount;
    this.counts = new CountComparison(
      {
        harm: { nullRatio: 1 + this.tolerance, direction: "above" },
        improvement: { nullRatio: 1 / (1 + this.tolerance), direction: "below" },
        margin: { nullRatio: 1 + this.margin, direction: "below" },
      },
      env,
      true,
      env.harmPlugin,
    );
  }

  /** Bad events and trials of a cohort, or undefined when the cohort lacks either series. */
  private read(totals: SliceTotals["canary"]): { bad: number; trials: number } | undefined {
    const events = totals.counters.get(this.metric.events);
    const trials = totals.counters.get(this.metric.trials);
    if (events === undefined || trials === undefined) return undefined;
    const bad = this.metric.bad === "decrease" ? Math.max(0, trials - events) : Math.min(events, trials);
    return { bad, trials };
  }

  observe(ctx: SliceContext, totals: SliceTotals): void {
    if (!ctx.judged) return;
    const canary = this.read(totals.canary);
    const control = this.read(totals.control);
    if (!canary && !control) return;
    if (this.windowOrdinal !== ctx.span.ordinal) {
      this.windowOrdinal = ctx.span.ordinal;
      this.window = emptyWindow();
    }
    this.counts.enterStep(ctx.span.ordinal, ctx.span.step);
    const w = this.window;
    if (canary) {
      w.canarySlices++;
      w.canaryTrials += canary.trials;
      w.canaryBad += canary.bad;
    }
    if (control) {
      w.controlSlices++;
      w.controlTrials += control.trials;
      w.controlBad += control.bad;
    }
    if (!canary || !control || canary.trials <= 0 || control.trials <= 0) return;
    const rho = canary.trials / control.trials;
    const m = canary.bad + control.bad;
    const share = rho / (1 + rho);
    this.counts.add({
      rho,
      xC: control.bad,
      xTHarm: canary.bad,
      xTImprovement: canary.bad,
      xTMargin: canary.bad,
      projectedXT: m * share,
      projectedXC: m * (1 - share),
      canaryScale: canary.trials,
      expectedCanaryEvents: m * share,
    });
  }

  look(): void {
    this.counts.look();
  }

  rows(ctx: RowContext): TrackerRow[] {
    const current = this.windowOrdinal === ctx.ordinal;
    const w = current ? this.window : emptyWindow();
    const noData = noDataReason(
      w.canarySlices,
      w.controlSlices,
      `${this.metric.events} and ${this.metric.trials}`,
    );
    const step = this.counts.isCurrent(ctx.ordinal) ? this.counts.step : undefined;
    const expected = step?.expectedCanaryEvents ?? 0;
    let belowMinimum: string | null = null;
    let extraNeeded = 0;
    if (expected < MIN_EXPECTED_EVENTS) {
      belowMinimum = `expected canary ${this.metric.bad === "decrease" ? "failures" : "events"} on this step ${expected.toFixed(1)} < ${MIN_EXPECTED_EVENTS}: too few to test`;
      const perTrial = step && step.canaryScale > 0 ? expected / step.canaryScale : 0;
      if (perTrial > 0) extraNeeded = Math.ceil(MIN_EXPECTED_EVENTS / perTrial - (step?.canaryScale ?? 0));
    }
    const judgment = judgeCounts(this.counts, ctx, noData, belowMinimum, extraNeeded);
    const canaryRate = w.canaryTrials > 0 ? w.canaryBad / w.canaryTrials : null;
    const controlRate = w.controlTrials > 0 ? w.controlBad / w.controlTrials : null;
    const interval = ratioInterval(this.counts, ctx);
    const complement = this.metric.bad === "decrease";
    return [
      {
        statistic: complement ? "complement_rate" : "rate",
        canary: { value: canaryRate, count: w.canaryTrials, events: w.canaryBad },
        control: { value: controlRate, count: w.controlTrials, events: w.controlBad },
        abs_diff: absoluteDifference(canaryRate, controlRate),
        rel_diff: relativeDifference(canaryRate, controlRate),
        ci_low: interval.ci_low,
        ci_high: interval.ci_high,
        interval_scale: "relative",
        ...judgment,
        tolerance: this.tolerance,
        margin: this.margin,
        note: complement
          ? `${judgment.note}; bad: decrease, so the rate shown and tested is 1 - ${this.metric.events}/${this.metric.trials}`
          : judgment.note,
      },
    ];
  }
}

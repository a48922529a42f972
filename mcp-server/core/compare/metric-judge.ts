import type { MetricPolicy, RatioMetricPolicy } from "../policy/schema.js";
import type { Row } from "../report.js";
import { harmThreshold } from "../stats/budget.js";
import { sampleQuantile, shrinkRates } from "../stats/shrinkage.js";
import type { GroupTotals } from "./series.js";
import { HistogramTracker } from "./trackers/histogram.js";
import { MeanTracker } from "./trackers/mean.js";
import { RatioTracker } from "./trackers/ratio.js";
import { ThroughputTracker } from "./trackers/throughput.js";
import type { MetricTracker, RowContext, SliceContext, TrackerEnv, TrackerRow } from "./trackers/types.js";

// One metric: the whole cohort and, for each dimension the policy lists, each segment on its own
// (not combinations). Segments are admitted in order of first appearance (time, then value), up to
// max_segments per dimension, the number the budget was split over; later ones are named in a
// report note, never silently dropped. For ratio metrics with dims, the distribution of
// per-segment rates is added as descriptive rows (judged: false).

/** Descriptive percentiles of the per-segment rates. */
const SEGMENT_RATE_PERCENTILES = [
  { q: 0.5, label: "p50" },
  { q: 0.9, label: "p90" },
  { q: 0.99, label: "p99" },
  { q: 0.999, label: "p99.9" },
] as const;

/** A segment joins the distribution when each cohort expects this many bad events in it at its cohort rate. */
const MIN_SEGMENT_EVENTS = 5;

function createTracker(metric: MetricPolicy, env: TrackerEnv): MetricTracker {
  switch (metric.type) {
    case "ratio":
      return new RatioTracker(metric, env);
    case "histogram":
      return new HistogramTracker(metric, env);
    case "mean":
      return new MeanTracker(metric, env);
    case "throughput":
      return new ThroughputTracker(metric, env);
  }
}

interface DimensionState {
  segments: Map<string, MetricTracker>;
  /** Values seen beyond max_segments (sorted when reported). */
  overflow: Set<string>;
}

export class MetricJudge {
  private readonly whole: MetricTracker;
  private readonly dims = new Map<string, DimensionState>();
  private readonly wholeThreshold: number;
  private readonly segmentThreshold: number;

  constructor(
    readonly metric: MetricPolicy,
    private readonly env: TrackerEnv,
  ) {
    this.whole = createTracker(metric, env);
    for (const dim of metric.dims ?? []) this.dims.set(dim, { segments: new Map(), overflow: new Set() });
    this.wholeThreshold = harmThreshold(env.policy, metric, false);
    this.segmentThreshold = harmThreshold(env.policy, metric, true);
  }

  observe(ctx: SliceContext, group: GroupTotals): void {
    this.whole.observe(ctx, group.whole);
    for (const [dim, state] of this.dims) {
      const byValue = group.segments.get(dim);
      if (!byValue) continue;
      const values = [...byValue.keys()].sort();
      for (const value of values) {
        let tracker = state.segments.get(value);
        if (!tracker) {
          if (state.segments.size >= this.env.policy.max_segments) {
            state.overflow.add(value);
            continue;
          }
          tracker = createTracker(this.metric, this.env);
          state.segments.set(value, tracker);
        }
        tracker.observe(ctx, byValue.get(value)!);
      }
    }
  }

  look(): void {
    this.whole.look();
    for (const state of this.dims.values()) for (const tracker of state.segments.values()) tracker.look();
  }

  private complete(row: TrackerRow, threshold: number, segment?: Record<string, string>): Row {
    const full: Row = {
      metric: this.metric.name,
      ...row,
      threshold,
      judged: true,
      critical: this.metric.critical,
    };
    if (segment) full.segment = segment;
    return full;
  }

  rows(ctx: RowContext): Row[] {
    const out: Row[] = this.whole
      .rows({ ...ctx, harmThreshold: this.wholeThreshold })
      .map((r) => this.complete(r, this.wholeThreshold));
    const dims = [...this.dims.keys()].sort();
    for (const dim of dims) {
      const state = this.dims.get(dim)!;
      const values = [...state.segments.keys()].sort();
      for (const value of values) {
        const tracker = state.segments.get(value)!;
        for (const r of tracker.rows({ ...ctx, harmThreshold: this.segmentThreshold })) {
          out.push(this.complete(r, this.segmentThreshold, { [dim]: value }));
        }
      }
      if (this.metric.type === "ratio") out.push(...this.distributionRows(dim, state, ctx));
    }
    return out;
  }

  /** Segments beyond max_segments, for the report's notes. */
  notes(): string[] {
    const notes: string[] = [];
    for (const [dim, state] of [...this.dims].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (state.overflow.size === 0) continue;
      const names = [...state.overflow].sort();
      const shown = names.slice(0, 20).join(", ");
      notes.push(
        `${this.metric.name}: ${names.length} ${dim} segment(s) beyond max_segments (${this.env.policy.max_segments}) are not tested on their own (they still count in the whole cohort): ${shown}${names.length > 20 ? ", ..." : ""}`,
      );
    }
    return notes;
  }

  /** segment_error_rate_pXX rows: the spread of shrunk per-segment bad-event rates, per cohort. */
  private distributionRows(dim: string, state: DimensionState, ctx: RowContext): Row[] {
    const metric = this.metric as RatioMetricPolicy;
    const canary: { events: number; trials: number }[] = [];
    const control: { events: number; trials: number }[] = [];
    const all: { c: { events: number; trials: number }; k: { events: number; trials: number } }[] = [];
    for (const value of [...state.segments.keys()].sort()) {
      const tracker = state.segments.get(value) as RatioTracker;
      if (!tracker.counts.isCurrent(ctx.ordinal)) continue;
      const w = tracker.window;
      if (w.canaryTrials > 0 && w.controlTrials > 0) {
        all.push({
          c: { events: w.canaryBad, trials: w.canaryTrials },
          k: { events: w.controlBad, trials: w.controlTrials },
        });
      }
    }
    const rate = (xs: { events: number; trials: number }[]) => {
      let e = 0;
      let n = 0;
      for (const x of xs) {
        e += x.events;
        n += x.trials;
      }
      return n > 0 ? e / n : 0;
    };
    const canaryRate = rate(all.map((a) => a.c));
    const controlRate = rate(all.map((a) => a.k));
    for (const a of all) {
      if (a.c.trials * canaryRate >= MIN_SEGMENT_EVENTS && a.k.trials * controlRate >= MIN_SEGMENT_EVENTS) {
        canary.push(a.c);
        control.push(a.k);
      }
    }
    const enough = canary.length >= 2;
    const shrunkCanary = enough ? shrinkRates(canary) : [];
    const shrunkControl = enough ? shrinkRates(control) : [];
    const canaryTrials = canary.reduce((s, x) => s + x.trials, 0);
    const controlTrials = control.reduce((s, x) => s + x.trials, 0);
    const tolerance = metric.tolerance.relative ?? 0;
    const margin = metric.margin?.relative ?? tolerance;
    return SEGMENT_RATE_PERCENTILES.map(({ q, label }) => {
      const cv = enough ? sampleQuantile(shrunkCanary, q) : null;
      const kv = enough ? sampleQuantile(shrunkControl, q) : null;
      return {
        metric: metric.name,
        statistic: `segment_error_rate_${label}`,
        segment: { [dim]: "*" },
        canary: { value: cv, count: canaryTrials },
        control: { value: kv, count: controlTrials },
        abs_diff: cv !== null && kv !== null ? cv - kv : null,
        rel_diff: cv !== null && kv !== null && kv !== 0 ? cv / kv - 1 : null,
        ci_low: null,
        ci_high: null,
        interval_scale: "relative",
        evidence: 1,
        threshold: this.segmentThreshold,
        status: enough ? "inconclusive" : "no_data",
        tolerance,
        margin,
        margin_evidence: 1,
        margin_proven: false,
        judged: false,
        critical: metric.critical,
        samples_needed: null,
        note: enough
          ? `descriptive, never decided on: ${label} of the ${canary.length} ${dim} segments with enough data in both cohorts on this step, each rate shrunk toward its cohort's rate (beta-binomial, method of moments); the per-segment rows carry the tests`
          : `descriptive: fewer than 2 ${dim} segments with at least ${MIN_SEGMENT_EVENTS} expected bad events in both cohorts on this step`,
      } satisfies Row;
    });
  }
}

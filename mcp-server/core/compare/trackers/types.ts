import type { Policy } from "../../policy/schema.js";
import type { Row } from "../../report.js";
import type { PluginSpec } from "../../stats/plugin-evidence.js";
import type { RatioTestPool } from "../../stats/ratio-evidence.js";
import type { SeriesRegistry, SliceTotals } from "../series.js";
import type { StepSpan } from "../timeline.js";

/** What a tracker needs to know about the deployment. */
export interface TrackerEnv {
  policy: Policy;
  restartWeights: readonly number[];
  /** The harm tests' weights over the ratio grid (stats/budget.ts); null: even. */
  harmGridLogWeights: Float64Array | null;
  registry: SeriesRegistry;
  sliceMs: number;
  /** How far back the control's thresholds for percentiles look (see RollingHistogram). */
  thresholdWindow: { minSpanMs: number; maxSpanMs: number; tailTarget: number };
  /** Count tests shared by all comparisons of the judge (see RatioTestPool). */
  ratioTests: RatioTestPool;
  /** A predictable plug-in blended into the ratio rows' harm tests; null: the mixture alone. */
  harmPlugin: PluginSpec | null;
}

/** One time slice as a tracker sees it. */
export interface SliceContext {
  t: number;
  span: StepSpan;
  /** After the warm-up: the tests see it. */
  judged: boolean;
}

/** What a report needs from every tracker. */
export interface RowContext {
  /** Ordinal of the step being reported (-1 when the report precedes the first step). */
  ordinal: number;
  span: StepSpan | undefined;
  harmThreshold: number;
  marginThreshold: number;
  /** Compute confidence intervals (display only; never used by a status). */
  intervals: boolean;
  alpha: number;
}

/** A row before the metric judge adds the metric-wide fields. */
export type TrackerRow = Omit<Row, "metric" | "segment" | "critical" | "judged" | "threshold">;

/** Follows one metric (or one segment of it) slice by slice. */
export interface MetricTracker {
  observe(ctx: SliceContext, totals: SliceTotals): void;
  /** A look at one of the policy's check times: rollback evidence as of now counts from here on. */
  look(): void;
  rows(ctx: RowContext): TrackerRow[];
}

/** Tolerance or margin of a metric, with the kind it was given in. */
export interface Shift {
  kind: "absolute" | "relative";
  amount: number;
}

export function toleranceOf(metric: {
  tolerance: { relative?: number | undefined; absolute?: number | undefined };
}): Shift {
  return metric.tolerance.relative !== undefined
    ? { kind: "relative", amount: metric.tolerance.relative }
    : { kind: "absolute", amount: metric.tolerance.absolute ?? 0 };
}

export function marginOf(metric: {
  tolerance: { relative?: number | undefined; absolute?: number | undefined };
  margin?: { relative?: number | undefined; absolute?: number | undefined } | undefined;
}): Shift {
  if (!metric.margin) return toleranceOf(metric);
  return metric.margin.relative !== undefined
    ? { kind: "relative", amount: metric.margin.relative }
    : { kind: "absolute", amount: metric.margin.absolute ?? 0 };
}

/** rel_diff, or null without a usable control value. */
export function relativeDifference(canary: number | null, control: number | null): number | null {
  if (canary === null || control === null || control === 0) return null;
  return canary / control - 1;
}

export function absoluteDifference(canary: number | null, control: number | null): number | null {
  if (canary === null || control === null) return null;
  return canary - control;
}

import type { MeanMetricPolicy } from "../../policy/schema.js";
import {
  logOneSidedMixture,
  MeanDifferenceSums,
  type MeanSliceMoments,
  type MeanTestSpec,
  meanConfidenceSequence,
  meanSamplesToThreshold,
  PooledVariance,
  RestartingMeanEvidence,
} from "../../stats/mean-evidence.js";
import { evidenceValue } from "../count-comparison.js";
import type { SliceTotals } from "../series.js";
import { noDataReason, rowStatus, statusNote } from "../status.js";
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

// A mean metric (per-request sizes, custom gauges) from per-slice moments {n, sum, sum_sq}, judged
// by the normal-mixture test of stats/mean-evidence.ts on the stratified difference
// d = mean_T - a mean_C - b. With bad: increase,
//   harm:        absolute tolerance t: a = 1, b = t; relative d: a = 1 + d, b = 0; alternatives above
//   improvement: a = 1, b = -t, or a = 1 / (1 + d); alternatives below
//   margin:      a = 1, b = margin, or a = 1 + margin; alternatives below, current step only
// and the mirror image for bad: decrease (relative: a = 1 - d). Relative shifts assume positive means.
//
// tau (the mixing scale) is the margin on the absolute scale: the absolute margin, or the relative
// margin times the control's mean over the deployment so far; without a usable mean it falls back
// to a tenth of the control's pooled standard deviation.

function specs(
  metric: MeanMetricPolicy,
  tolerance: Shift,
  margin: Shift,
): { harm: MeanTestSpec; improvement: MeanTestSpec; margin: MeanTestSpec } {
  const abs = (s: Shift) => (s.kind === "absolute" ? s.amount : 0);
  const rel = (s: Shift) => (s.kind === "relative" ? s.amount : 0);
  if (metric.bad === "increase") {
    return {
      harm: { scale: 1 + rel(tolerance), shift: abs(tolerance), direction: "above" },
      improvement: { scale: 1 / (1 + rel(tolerance)), shift: -abs(tolerance), direction: "below" },
      margin: { scale: 1 + rel(margin), shift: abs(margin), direction: "below" },
    };
  }
  return {
    harm: { scale: 1 - rel(tolerance), shift: -abs(tolerance), direction: "below" },
    improvement: { scale: 1 + rel(tolerance), shift: abs(tolerance), direction: "above" },
    margin: { scale: 1 - rel(margin), shift: -abs(margin), direction: "above" },
  };
}

const PLAIN: MeanTestSpec = { scale: 1, shift: 0, direction: "above" };

interface StepState {
  ordinal: number;
  canarySlices: number;
  controlSlices: number;
  canary: { n: number; sum: number };
  control: { n: number; sum: number };
  margin: MeanDifferenceSums;
  plain: MeanDifferenceSums;
}

function emptyStep(ordinal: number): StepState {
  return {
    ordinal,
    canarySlices: 0,
    controlSlices: 0,
    canary: { n: 0, sum: 0 },
    control: { n: 0, sum: 0 },
    margin: new MeanDifferenceSums(),
    plain: new MeanDifferenceSums(),
  };
}

export class MeanTracker implements MetricTracker {
  private readonly tolerance: Shift;
  private readonly margin: Shift;
  private readonly specs: ReturnType<typeof specs>;
  private readonly harm: RestartingMeanEvidence;
  private readonly improvement: RestartingMeanEvidence;
  private readonly pooledCanary = new PooledVariance();
  private readonly pooledControl = new PooledVariance();
  private controlN = 0;
  private controlSum = 0;
  private step: StepState = emptyStep(-1);

  constructor(
    private readonly metric: MeanMetricPolicy,
    env: TrackerEnv,
  ) {
    this.tolerance = toleranceOf(metric);
    this.margin = marginOf(metric);
    this.specs = specs(metric, this.tolerance, this.margin);
    this.harm = new RestartingMeanEvidence(this.specs.harm, env.restartWeights);
    this.improvement = new RestartingMeanEvidence(this.specs.improvement, env.restartWeights);
  }

  /** The mixing scale: the margin on the absolute scale. */
  private tau(): number {
    if (this.margin.kind === "absolute") return this.margin.amount;
    const mean = this.controlN > 0 ? Math.abs(this.controlSum / this.controlN) : 0;
    if (mean > 0) return this.margin.amount * mean;
    const v = this.pooledControl.value();
    return v !== null && v > 0 ? 0.1 * Math.sqrt(v) : 0;
  }

  observe(ctx: SliceContext, totals: SliceTotals): void {
    if (!ctx.judged) return;
    const canary = totals.canary.moments.get(this.metric.series);
    const control = totals.control.moments.get(this.metric.series);
    if (!canary && !control) return;
    if (this.step.ordinal !== ctx.span.ordinal) {
      this.step = emptyStep(ctx.span.ordinal);
      this.harm.begin(ctx.span.step);
      this.improvement.begin(ctx.span.step);
    }
    const st = this.step;
    if (canary) {
      st.canarySlices++;
      st.canary.n += canary.n;
      st.canary.sum += canary.sum;
    }
    if (control) {
      st.controlSlices++;
      st.control.n += control.n;
      st.control.sum += control.sum;
    }
    if (!canary || !control || canary.n < 1 || control.n < 1) return;
    this.pooledCanary.add(canary.n, canary.sum, canary.sumSq);
    this.pooledControl.add(control.n, control.sum, control.sumSq);
    this.controlN += control.n;
    this.controlSum += control.sum;
    const s: MeanSliceMoments = {
      nT: canary.n,
      sumT: canary.sum,
      sumSqT: canary.sumSq,
      nC: control.n,
      sumC: control.sum,
      sumSqC: control.sumSq,
    };
    this.harm.add(s);
    this.improvement.add(s);
    st.margin.add(this.specs.margin, s);
    st.plain.add(PLAIN, s);
  }

  look(): void {
    const tau = this.tau();
    const pc = this.pooledCanary.value();
    const pk = this.pooledControl.value();
    this.harm.look(tau, pc, pk);
    this.improvement.look(tau, pc, pk);
  }

  rows(ctx: RowContext): TrackerRow[] {
    const st = this.step.ordinal === ctx.ordinal ? this.step : emptyStep(ctx.ordinal);
    const noData = noDataReason(st.canarySlices, st.controlSlices, this.metric.series);
    const tau = this.tau();
    const pc = this.pooledCanary.value();
    const pk = this.pooledControl.value();
    const evidence = evidenceValue(this.harm.logEvidenceSoFar(tau, pc, pk));
    const improvementEvidence = evidenceValue(this.improvement.logEvidenceSoFar(tau, pc, pk));
    const marginEstimate = st.margin.estimate(pc, pk);
    const marginDirection = this.specs.margin.direction;
    const marginEvidence = marginEstimate
      ? evidenceValue(logOneSidedMixture(marginEstimate.d, marginEstimate.v, tau, marginDirection))
      : 1;
    const projectedD = st.margin.weight > 0 ? st.margin.projectedSum / st.margin.weight : 0;
    const projected = marginEstimate
      ? evidenceValue(logOneSidedMixture(projectedD, marginEstimate.v, tau, marginDirection))
      : 1;
    let belowMinimum: string | null = null;
    if (st.canary.n < 2 || st.control.n < 2)
      belowMinimum = "needs at least 2 samples per cohort on this step";
    else if (!marginEstimate || !(tau > 0)) belowMinimum = "no variance estimate yet";
    const marginProven = belowMinimum === null && noData === null && marginEvidence >= ctx.marginThreshold;
    const status = rowStatus({
      regression: evidence >= ctx.harmThreshold,
      noData,
      improvement: improvementEvidence >= ctx.harmThreshold,
      belowMinimum,
      marginProven,
      projectedSufficient: projected >= ctx.marginThreshold,
    });
    let samplesNeeded: number | null = null;
    if (status === "no_difference" || (status === "improvement" && marginProven)) samplesNeeded = 0;
    else if (status !== "regression" && status !== "no_data" && marginEstimate) {
      // insufficient_data, inconclusive, or an improvement whose step has not proven its margin yet.
      const d = status === "insufficient_data" ? projectedD : marginEstimate.d;
      samplesNeeded = meanSamplesToThreshold(
        d,
        marginEstimate.v,
        tau,
        marginDirection,
        st.margin.canarySamples,
        ctx.marginThreshold,
      );
    } else if (status === "insufficient_data") {
      samplesNeeded = Math.max(0, 2 - st.canary.n) || null;
    }
    const canaryMean = st.canary.n > 0 ? st.canary.sum / st.canary.n : null;
    const controlMean = st.control.n > 0 ? st.control.sum / st.control.n : null;
    let ciLow: number | null = null;
    let ciHigh: number | null = null;
    const plain = st.plain.estimate(pc, pk);
    if (ctx.intervals && plain && tau > 0) {
      const cs = meanConfidenceSequence(plain.d, plain.v, tau, ctx.marginThreshold);
      ciLow = cs.low;
      ciHigh = cs.high;
      if (this.tolerance.kind === "relative") {
        ciLow = controlMean ? ciLow / Math.abs(controlMean) : null;
        ciHigh = controlMean ? ciHigh / Math.abs(controlMean) : null;
      }
    }
    const note = statusNote(status, {
      evidence,
      threshold: ctx.harmThreshold,
      marginEvidence,
      marginThreshold: ctx.marginThreshold,
      noData,
      belowMinimum,
    });
    return [
      {
        statistic: "mean",
        canary: { value: canaryMean, count: st.canary.n },
        control: { value: controlMean, count: st.control.n },
        abs_diff: absoluteDifference(canaryMean, controlMean),
        rel_diff: relativeDifference(canaryMean, controlMean),
        ci_low: ciLow,
        ci_high: ciHigh,
        interval_scale: this.tolerance.kind,
        evidence,
        improvement_evidence: improvementEvidence,
        status,
        tolerance: this.tolerance.amount,
        margin: this.margin.amount,
        margin_evidence: marginEvidence,
        margin_proven: marginProven,
        samples_needed: samplesNeeded,
        note,
      },
    ];
  }
}

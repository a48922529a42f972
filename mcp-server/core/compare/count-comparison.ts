import { ShareDispersion } from "../stats/dispersion.js";
import { HarmRatioEvidence, type PluginSpec } from "../stats/plugin-evidence.js";
import {
  LogLikelihoods,
  RatioConfidenceSequence,
  type RatioDirection,
  type RatioTest,
  RestartingRatioEvidence,
  restartsBegunAt,
  trialsToThreshold,
} from "../stats/ratio-evidence.js";
import type { TrackerEnv } from "./trackers/types.js";

// The three count tests behind a ratio, throughput or percentile row, fed slice by slice:
// - harm: "canary worse than control beyond the tolerance", over the whole deployment with
//   restarts at each step; its maximum over the looks is the row's evidence (a crossing stays one);
// - improvement: the mirror, "canary better beyond the tolerance", same budget and construction;
// - margin: non-inferiority, "harm above the margin is ruled out", on the current step only (a step
//   earns its own promotion), with its projection: the same test fed what it would see if the
//   canary matched the control, which tells "too little data" from "data that do not look good".
// Every test is read through the dispersion of the canary's share (stats/dispersion.ts): bursts of
// retries in one cohort weigh what independent events would. The harm tests also set aside the
// burst excess no other slice explains and hold the dispersion seen at a look for a few slices.

export interface CountTestSpec {
  nullRatio: number;
  direction: RatioDirection;
}

export interface CountTestSpecs {
  harm: CountTestSpec;
  improvement: CountTestSpec;
  margin: CountTestSpec;
}

/**
 * One slice, already turned into the counts each test reads. A canary count of null leaves that
 * test out for the slice (a percentile whose shifted threshold has no bucket bound).
 */
export interface CountSlice {
  /** n_T / n_C: the canary's trials (or samples, or share) over the control's; > 0. */
  rho: number;
  /** Control events (for percentiles: control samples above the threshold c). */
  xC: number;
  xTHarm: number | null;
  xTImprovement: number | null;
  xTMargin: number | null;
  /** What the margin test would count if the canary matched the control. */
  projectedXT: number;
  projectedXC: number;
  /** Canary trials behind the slice: the unit of samples_needed. */
  canaryScale: number;
  /** Canary events expected if the canary matched the control (for the minimum-count rule). */
  expectedCanaryEvents: number;
}

export interface StepCounts {
  slices: number;
  canaryScale: number;
  expectedCanaryEvents: number;
  canaryEvents: number;
  controlEvents: number;
}

function emptyStep(): StepCounts {
  return { slices: 0, canaryScale: 0, expectedCanaryEvents: 0, canaryEvents: 0, controlEvents: 0 };
}

export class CountComparison {
  private readonly harmTest: RatioTest;
  private readonly improvementTest: RatioTest;
  private readonly marginTest: RatioTest;
  readonly harm: HarmRatioEvidence;
  readonly improvement: RestartingRatioEvidence;
  readonly margin = new LogLikelihoods();
  readonly projection = new LogLikelihoods();
  /** Ordinal of the step the step-level state belongs to (-1: none yet). */
  stepOrdinal = -1;
  step: StepCounts = emptyStep();
  /** The current step's confidence sequence (harm counts), kept only when the report shows intervals. */
  stepInterval = new RatioConfidenceSequence();
  /** Extra-binomial dispersion of the canary's share, over the whole deployment. */
  readonly dispersion: ShareDispersion;
  /** Per harm restart, the dispersion's slice count when it began (+Infinity: not yet). */
  private readonly restartStarts: number[];

  /**
   * Tests come from a pool shared across comparisons (`env.ratioTests`): tests with the same null
   * and side share their per-slice terms (a percentile's improvement and margin tests, the
   * percentiles of one histogram). Each test is prepared right before its counts are added, so
   * sharing is safe. `env.harmGridLogWeights` weighs the harm test's grid (stats/budget.ts);
   * `harmPlugin` blends a predictable plug-in into it (stats/plugin-evidence.ts); null: the mixture alone.
   */
  constructor(
    specs: CountTestSpecs,
    env: Pick<TrackerEnv, "restartWeights" | "ratioTests" | "harmGridLogWeights">,
    private readonly keepSlices: boolean,
    harmPlugin: PluginSpec | null = null,
  ) {
    const pool = env.ratioTests;
    const restartWeights = env.restartWeights;
    this.harmTest = pool.get(specs.harm.nullRatio, specs.harm.direction);
    this.improvementTest = pool.get(specs.improvement.nullRatio, specs.improvement.direction);
    this.marginTest = pool.get(specs.margin.nullRatio, specs.margin.direction);
    this.harm = new HarmRatioEvidence(this.harmTest, restartWeights, harmPlugin, env.harmGridLogWeights);
    this.improvement = new RestartingRatioEvidence(this.improvementTest, restartWeights);
    this.dispersion = new ShareDispersion(specs.harm.direction === "above" ? 1 : -1);
    this.restartStarts = restartWeights.map(() => Number.POSITIVE_INFINITY);
  }

  /** Moves to step `ordinal` (ladder index `ladderStep`): resets the step's state and starts its restart. */
  enterStep(ordinal: number, ladderStep: number): void {
    if (ordinal === this.stepOrdinal) return;
    this.stepOrdinal = ordinal;
    this.step = emptyStep();
    this.stepInterval = new RatioConfidenceSequence();
    this.margin.reset();
    this.projection.reset();
    this.harm.begin(ladderStep);
    this.improvement.begin(ladderStep);
    this.dispersion.beginStep();
    // The burst excess of the restarts the harm test begins counts from here.
    for (const j of restartsBegunAt(ladderStep, this.restartStarts.length))
      if (this.restartStarts[j] === Number.POSITIVE_INFINITY) this.restartStarts[j] = this.dispersion.slices;
  }

  add(s: CountSlice): void {
    if (!(s.rho > 0) || !Number.isFinite(s.rho)) return;
    const step = this.step;
    step.slices++;
    step.canaryScale += s.canaryScale;
    step.expectedCanaryEvents += s.expectedCanaryEvents;
    step.canaryEvents += s.xTHarm ?? 0;
    step.controlEvents += s.xC;
    if (s.xTHarm !== null && s.xTHarm + s.xC > 0) {
      this.harmTest.prepare(s.rho);
      this.harm.add(s.xTHarm, s.xTHarm + s.xC, s.rho);
      this.dispersion.add(s.xTHarm, s.xTHarm + s.xC, s.rho);
      if (this.keepSlices) this.stepInterval.add(s.xTHarm, s.xTHarm + s.xC, s.rho);
    }
    if (s.xTImprovement !== null && s.xTImprovement + s.xC > 0) {
      this.improvementTest.prepare(s.rho);
      this.improvement.add(s.xTImprovement, s.xTImprovement + s.xC);
    }
    const marginEvents = s.xTMargin === null ? 0 : s.xTMargin + s.xC;
    const projectedEvents = s.projectedXT + s.projectedXC;
    if (marginEvents > 0 || projectedEvents > 0) {
      this.marginTest.prepare(s.rho);
      if (s.xTMargin !== null && marginEvents > 0) this.margin.add(this.marginTest, s.xTMargin, marginEvents);
      if (projectedEvents > 0) this.projection.add(this.marginTest, s.projectedXT, projectedEvents);
    }
  }

  /** A look at the policy's check times: the harm and improvement evidence as of now joins their maxima. */
  look(): void {
    this.dispersion.look();
    const harm = this.dispersion.harm(this.restartStarts);
    this.harm.look(harm.temper, harm.countShifts);
    this.improvement.look(this.dispersion.value());
  }

  /** Harm evidence for a report: the largest at any look, or now. */
  harmLogEvidence(): number {
    const harm = this.dispersion.harm(this.restartStarts);
    return this.harm.logEvidenceSoFar(harm.temper, harm.countShifts);
  }

  improvementLogEvidence(): number {
    return this.improvement.logEvidenceSoFar(this.dispersion.value());
  }

  /** Non-inferiority on the current step, now. */
  marginLogEvidence(): number {
    return this.margin.logEvidence(this.dispersion.value());
  }

  /** What the margin test would show if the canary matched the control. */
  projectedLogEvidence(): number {
    return this.projection.logEvidence(this.dispersion.value());
  }

  /** The current step's confidence sequence now: events weighed by the dispersion, as the tests weigh them. */
  interval(lowThreshold: number, highThreshold: number): { low: number; high: number | null } {
    return this.stepInterval.interval(lowThreshold, highThreshold, this.dispersion.value());
  }

  /** Whether the step-level state belongs to the step being reported. */
  isCurrent(ordinal: number): boolean {
    return this.stepOrdinal === ordinal;
  }

  /**
   * Extra canary trials until the margin could be proven: from the projection (canary matching
   * control) or, when `observed`, from the margin test's own average drift so far. When the data so
   * far drift away from proof, what it would take from here if the canary matched the control from
   * now on (so a hold can still say how much more data would settle it). Null when the data give
   * no way to tell (no events yet).
   */
  trialsNeeded(threshold: number, observed: boolean): number | null {
    const scale = this.step.canaryScale;
    if (!(scale > 0)) return null;
    const temper = this.dispersion.value();
    const projected = this.projection.values.map((v) => v / scale / temper);
    if (observed) {
      const drift = this.margin.values.map((v) => v / scale / temper);
      const total = trialsToThreshold(drift, threshold);
      if (total !== null) return Math.max(0, Math.ceil(total - scale));
      const more = trialsToThreshold(
        projected,
        threshold,
        this.margin.values.map((v) => v / temper),
      );
      return more === null ? null : Math.ceil(more);
    }
    const total = trialsToThreshold(projected, threshold);
    return total === null ? null : Math.max(0, Math.ceil(total - scale));
  }
}

/** e-value from a log e-value, kept finite for JSON. */
export function evidenceValue(logE: number): number {
  return Math.exp(Math.min(logE, 690));
}

import { histogramQuantile } from "../latency.js";
import { Rng } from "../rng.js";
import { mannWhitneyShift } from "./mann-whitney.js";
import type { DeploymentJudge, DeploymentSetup, JudgeFactory, LookResult, MinuteData } from "./types.js";

// Kayenta's NetflixACAJudge as configured for this benchmark: per metric, the per-minute values of
// the current step (since the step started) for canary and control go through its
// MannWhitneyClassifier with tolerance 0.25 and confidence 0.98, direction "increase", every metric
// critical, NaN strategy "remove" (a minute without traffic has no value), no outlier removal, mean
// ratio effect size with the default thresholds (1.0). A critical High fails the canary (rollback);
// otherwise the step promotes when its window has elapsed. Earlier steps are not remembered.
//
// The classifier's rule, kept as Kayenta has it: High when the lower end of the 98% interval for
// the shift (canary - control) exceeds 25% of the absolute Hodges-Lehmann estimate and the mean
// ratio is at least 1. Identical samples, or a single distinct value overall, pass. When both samples
// are constant, Kayenta adds Gaussian noise (sd 1e-5 of the value); here the noise comes from a
// seeded stream so runs repeat.

type Classification = "High" | "Pass" | "Nodata";

export function classifyMannWhitney(
  canary: readonly number[],
  control: readonly number[],
  noise: Rng,
  tolerance = 0.25,
  confidenceLevel = 0.98,
): Classification {
  if (canary.length === 0 || control.length === 0) return "Nodata";
  const sortedCanary = [...canary].sort((a, b) => a - b);
  const sortedControl = [...control].sort((a, b) => a - b);
  if (sortedCanary.length === sortedControl.length && sortedCanary.every((v, i) => v === sortedControl[i]))
    return "Pass";
  const distinct = new Set([...canary, ...control]);
  if (distinct.size === 1) return "Pass";
  let x = canary;
  let y = control;
  if (new Set(canary).size === 1 && new Set(control).size === 1) {
    const jitter = (values: readonly number[]): number[] => {
      const sd = values[0]! * 1e-5;
      return values.map((v) => v + sd * noise.normal());
    };
    x = jitter(canary);
    y = jitter(control);
  }
  let interval: ReturnType<typeof mannWhitneyShift>;
  try {
    interval = mannWhitneyShift(x, y, confidenceLevel);
  } catch {
    // Kayenta reports a classification error for the metric; it neither fails nor passes it.
    return "Nodata";
  }
  const upperBound = tolerance * Math.abs(interval.estimate);
  const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const controlMean = mean(y);
  const ratio = controlMean === 0 ? Number.NaN : mean(x) / controlMean;
  const high = interval.lower > upperBound && (Number.isNaN(ratio) || ratio >= 1);
  return high ? "High" : "Pass";
}

interface SeriesDef {
  name: string;
  value: (m: MinuteData["canary"]) => number;
}

function seriesFor(setup: DeploymentSetup): SeriesDef[] {
  const errorRate: SeriesDef = {
    name: "error_rate",
    value: (c) => (c.requests > 0 ? c.errors / c.requests : Number.NaN),
  };
  if (setup.policy === "errors") return [errorRate];
  const quantile = (q: number): SeriesDef => ({
    name: `p${q * 100}`,
    value: (c) => (c.latency ? histogramQuantile(c.latency, q) : Number.NaN),
  });
  return [errorRate, quantile(0.5), quantile(0.9), quantile(0.99), quantile(0.999)];
}

class KayentaJudge implements DeploymentJudge {
  private readonly series: SeriesDef[];
  private canary: number[][];
  private control: number[][];
  private stepStart = 0;
  private step = 0;
  private readonly noise: Rng;

  constructor(private readonly setup: DeploymentSetup) {
    this.series = seriesFor(setup);
    this.canary = this.series.map(() => []);
    this.control = this.series.map(() => []);
    this.noise = new Rng(setup.seed ^ 0x6b617965);
  }

  addMinute(d: MinuteData): void {
    this.series.forEach((s, i) => {
      const c = s.value(d.canary);
      const k = s.value(d.control);
      if (!Number.isNaN(c)) this.canary[i]!.push(c);
      if (!Number.isNaN(k)) this.control[i]!.push(k);
    });
  }

  look(minute: number): LookResult {
    let nodata = false;
    for (let i = 0; i < this.series.length; i++) {
      const c = classifyMannWhitney(this.canary[i]!, this.control[i]!, this.noise);
      if (c === "High") return { verdict: "rollback", insufficient: false };
      if (c === "Nodata") nodata = true;
    }
    const window = this.setup.ladder[this.step]?.windowMinutes ?? 0;
    if (minute - this.stepStart >= window && !nodata) return { verdict: "promote", insufficient: false };
    return { verdict: "hold", insufficient: nodata };
  }

  stepChanged(step: number, minute: number): void {
    this.step = step;
    this.stepStart = minute;
    this.canary = this.series.map(() => []);
    this.control = this.series.map(() => []);
  }
}

export const kayentaJudge: JudgeFactory = {
  id: "kayenta",
  label: "Kayenta-style Mann-Whitney (98%, 25% band, per step)",
  create: (setup) => new KayentaJudge(setup),
};

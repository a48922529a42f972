import { boundIndexAtOrAbove, countAbove, histogramQuantile } from "../latency.js";
import { normalQuantile } from "../normal.js";
import type {
  CohortMinute,
  DeploymentJudge,
  DeploymentSetup,
  JudgeFactory,
  LookResult,
  MinuteData,
} from "./types.js";

// The textbook approach and its usual patch. At every look, a two-proportion z-test (two-sided at
// alpha, the common default, acting only when the canary is worse) on the counts pooled since the
// deployment started (what a dashboard comparing "canary vs control so far" shows): errors over
// requests, and for each latency percentile q, requests above the control's pooled q-quantile
// (taken on a bucket bound) over requests. Rollback when any metric's z exceeds the critical value;
// promote when the step's window has elapsed without one.
// - naive: alpha 0.05 per metric and look.
// - Bonferroni: alpha 0.05 / (planned looks x metrics), planned looks over the nominal ladder.

const PERCENTILES = [0.5, 0.9, 0.99, 0.999];

/** One-sided z for "canary proportion above control proportion" (pooled variance); NaN when undefined. */
export function twoProportionZ(xCanary: number, nCanary: number, xControl: number, nControl: number): number {
  if (nCanary === 0 || nControl === 0) return Number.NaN;
  const pooled = (xCanary + xControl) / (nCanary + nControl);
  const variance = pooled * (1 - pooled) * (1 / nCanary + 1 / nControl);
  if (!(variance > 0)) return Number.NaN;
  return (xCanary / nCanary - xControl / nControl) / Math.sqrt(variance);
}

class Pooled {
  requests = 0;
  errors = 0;
  latency: number[] | undefined;
  add(c: CohortMinute): void {
    this.requests += c.requests;
    this.errors += c.errors;
    if (c.latency) {
      if (!this.latency) this.latency = new Array<number>(c.latency.length).fill(0);
      for (let i = 0; i < c.latency.length; i++) this.latency[i]! += c.latency[i]!;
    }
  }
}

class ZTestJudge implements DeploymentJudge {
  private readonly canary = new Pooled();
  private readonly control = new Pooled();
  private step = 0;
  private stepStart = 0;
  private readonly critical: number;

  constructor(
    private readonly setup: DeploymentSetup,
    bonferroni: boolean,
  ) {
    const metrics = setup.policy === "errors" ? 1 : 1 + PERCENTILES.length;
    const alpha = bonferroni ? 0.05 / (setup.plannedLooks * metrics) : 0.05;
    this.critical = normalQuantile(1 - alpha / 2);
  }

  addMinute(d: MinuteData): void {
    this.canary.add(d.canary);
    this.control.add(d.control);
  }

  private anyHarm(): boolean {
    const c = this.canary;
    const k = this.control;
    if (twoProportionZ(c.errors, c.requests, k.errors, k.requests) > this.critical) return true;
    if (this.setup.policy === "five" && c.latency && k.latency) {
      const nC = c.latency.reduce((a, b) => a + b, 0);
      const nK = k.latency.reduce((a, b) => a + b, 0);
      for (const q of PERCENTILES) {
        const threshold = histogramQuantile(k.latency, q);
        if (Number.isNaN(threshold)) continue;
        const idx = boundIndexAtOrAbove(threshold);
        const z = twoProportionZ(countAbove(c.latency, idx), nC, countAbove(k.latency, idx), nK);
        if (z > this.critical) return true;
      }
    }
    return false;
  }

  look(minute: number): LookResult {
    if (this.anyHarm()) return { verdict: "rollback", insufficient: false };
    const window = this.setup.ladder[this.step]?.windowMinutes ?? 0;
    return { verdict: minute - this.stepStart >= window ? "promote" : "hold", insufficient: false };
  }

  stepChanged(step: number, minute: number): void {
    this.step = step;
    this.stepStart = minute;
  }
}

export const naiveZJudge: JudgeFactory = {
  id: "naive-z",
  label: "Naive repeated z-test (alpha 0.05 per look)",
  create: (setup) => new ZTestJudge(setup, false),
};

export const bonferroniZJudge: JudgeFactory = {
  id: "bonferroni-z",
  label: "Bonferroni z-test (alpha 0.05 / planned looks)",
  create: (setup) => new ZTestJudge(setup, true),
};

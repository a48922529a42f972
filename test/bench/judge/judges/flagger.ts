import { histogramQuantile } from "../latency.js";
import type { DeploymentJudge, DeploymentSetup, JudgeFactory, LookResult, MinuteData } from "./types.js";

// Flagger-style absolute thresholds, as its built-in checks are usually configured: the canary's
// request success rate at least 99% (error rate below 1%) and, with latency, its p99 below 500 ms,
// each over the last interval (the look cadence). A look where a check fails counts one failed
// check; the canary rolls back when failed checks reach the threshold (5, the value in Flagger's
// examples), counted over the whole deployment as Flagger does. An interval without canary
// requests halts advancement without counting a failure ("no values found"). The step promotes
// when its window has elapsed.

const FAILED_CHECKS_LIMIT = 5;
const MAX_ERROR_RATE = 0.01;
const MAX_P99_MS = 500;

class FlaggerJudge implements DeploymentJudge {
  private readonly interval: MinuteData[] = [];
  private failedChecks = 0;
  private step = 0;
  private stepStart = 0;

  constructor(private readonly setup: DeploymentSetup) {}

  addMinute(d: MinuteData): void {
    this.interval.push(d);
    if (this.interval.length > this.setup.lookEveryMinutes) this.interval.shift();
  }

  look(minute: number): LookResult {
    let requests = 0;
    let errors = 0;
    let latency: number[] | undefined;
    for (const d of this.interval) {
      requests += d.canary.requests;
      errors += d.canary.errors;
      if (d.canary.latency) {
        latency ??= new Array<number>(d.canary.latency.length).fill(0);
        for (let i = 0; i < d.canary.latency.length; i++) latency[i]! += d.canary.latency[i]!;
      }
    }
    if (requests === 0) return { verdict: "hold", insufficient: true };
    let failed = errors / requests > MAX_ERROR_RATE;
    if (this.setup.policy === "five" && latency && histogramQuantile(latency, 0.99) > MAX_P99_MS)
      failed = true;
    if (failed) {
      this.failedChecks++;
      if (this.failedChecks >= FAILED_CHECKS_LIMIT) return { verdict: "rollback", insufficient: false };
      return { verdict: "hold", insufficient: false };
    }
    const window = this.setup.ladder[this.step]?.windowMinutes ?? 0;
    return { verdict: minute - this.stepStart >= window ? "promote" : "hold", insufficient: false };
  }

  stepChanged(step: number, minute: number): void {
    this.step = step;
    this.stepStart = minute;
  }
}

export const flaggerJudge: JudgeFactory = {
  id: "flagger",
  label: "Flagger-style thresholds (errors < 1%, p99 < 500 ms; 5 failed checks)",
  create: (setup) => new FlaggerJudge(setup),
};

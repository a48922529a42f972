import type { DeploymentJudge, DeploymentSetup, JudgeFactory, LookResult, MinuteData } from "./types.js";

// The limit: a sequential probability ratio test that knows the scenario's true effect and when it
// begins. It uses the same stratified conditional-binomial likelihood as ours (per minute,
// x_T | m ~ Binomial(m, pi(r)), pi(r) = n_T r / (n_T r + n_C)), the same alpha and the same looks,
// but a single alternative: the true ratio. No test that must work for unknown effects can cross
// sooner on average (Wald-Wolfowitz), so every judge's detection figures are read as a ratio to it.
// It is not a judge anyone could run: it promotes a step whose window has elapsed only because it
// knows the canary is healthy there, and holds (staying at its percent) once the effect has begun.
// Defined for the error-rate scenarios; the tables show it only there.

const ALPHA = 0.05;
const LOG_THRESHOLD = Math.log(1 / ALPHA);

class OracleJudge implements DeploymentJudge {
  private step = 0;
  private stepStart = 0;
  private logLikelihood = 0;
  private affected = false;

  constructor(private readonly setup: DeploymentSetup) {}

  addMinute(d: MinuteData): void {
    const effect = this.setup.scenario.effect(d.percent, d.minute - this.stepStart);
    const ratio = effect?.errorMultiplier ?? 1;
    if (ratio === 1) return;
    this.affected = true;
    const nT = d.canary.requests;
    const nC = d.control.requests;
    if (nT === 0 || nC === 0) return;
    const rho = nT / nC;
    const xT = d.canary.errors;
    const m = xT + d.control.errors;
    this.logLikelihood += xT * Math.log(ratio) - m * (Math.log1p(rho * ratio) - Math.log1p(rho));
  }

  look(minute: number): LookResult {
    if (this.logLikelihood >= LOG_THRESHOLD) return { verdict: "rollback", insufficient: false };
    const window = this.setup.ladder[this.step]?.windowMinutes ?? 0;
    const promote = !this.affected && minute - this.stepStart >= window;
    return { verdict: promote ? "promote" : "hold", insufficient: false };
  }

  stepChanged(step: number, minute: number): void {
    this.step = step;
    this.stepStart = minute;
  }
}

export const oracleJudge: JudgeFactory = {
  id: "oracle",
  label: "Oracle SPRT (knows the true effect and its onset; the limit, not a judge)",
  create: (setup) => new OracleJudge(setup),
};

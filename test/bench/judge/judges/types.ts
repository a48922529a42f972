import type { PolicyKind, Scenario } from "../scenarios.js";

// What every judge in the benchmark sees and says. Judges get the same minutes (common random
// numbers) and decide only at their looks; the simulator moves traffic on their verdicts.

export interface CohortMinute {
  requests: number;
  errors: number;
  /** Latency bucket counts (LATENCY_BOUNDS), present for the five-metric policy. */
  latency: number[] | undefined;
}

export interface MinuteData {
  /** Minutes since the deployment started; the data cover [minute, minute + 1). */
  minute: number;
  percent: number;
  canary: CohortMinute;
  control: CohortMinute;
}

export interface Rung {
  percent: number;
  /** Undefined on the last rung (100%). */
  windowMinutes: number | undefined;
}

export interface DeploymentSetup {
  scenario: Scenario;
  policy: PolicyKind;
  rps: number;
  lookEveryMinutes: number;
  ladder: readonly Rung[];
  /** Looks a judge plans for over the nominal ladder (for alpha-splitting peers). */
  plannedLooks: number;
  /** Seeds a judge's own randomness (Kayenta's tie-breaking noise). */
  seed: number;
}

export type Verdict = "promote" | "hold" | "rollback";

export interface LookResult {
  verdict: Verdict;
  /** The judge held because data were missing or too few (its own notion; false when it has none). */
  insufficient: boolean;
  /** For holds that lack samples: whether the judge named a percent that would end the hold. */
  hold?: {
    needsSamples: boolean;
    namesPercent: boolean;
    /** The named percent gathers the samples within the policy's window (not a longer one). */
    withinWindow: boolean;
  };
  /** Our judge only: the highest percentile row (p99.9), to check it is never passed without data. */
  tail?: { status: string; proven: boolean };
}

export interface DeploymentJudge {
  addMinute(data: MinuteData): void;
  /** A look at the end of minute `minute - 1` (that is, `minute` minutes after the start). */
  look(minute: number): LookResult;
  /** Traffic moved to `step` at `minute` (minutes since the start). */
  stepChanged(step: number, minute: number): void;
}

export interface JudgeFactory {
  id: string;
  label: string;
  create(setup: DeploymentSetup): DeploymentJudge;
}

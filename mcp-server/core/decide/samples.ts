import type { Row } from "../report.js";

// How many more canary samples a guardrail needs before its margin can be proven. The comparison
// engine says so on most rows; where it does not (for example a row whose margin evidence is
// growing but whose status is not one it estimates for), the decision extrapolates from the
// margin evidence itself, so a hold can still say what would end it.

export interface SamplesNeeded {
  samples: number;
  /** True when extrapolated here rather than reported by the engine. */
  extrapolated: boolean;
}

/**
 * The engine's samples_needed when it gives one; otherwise, for a margin test that is gaining
 * evidence, log-evidence grows about linearly in the samples under a steady effect, so the step
 * needs about n * ln(T) / ln(E) samples in all to reach T = 1/alpha (the margin tests run at alpha
 * on the step's own data). Null when nothing sensible can be said (no samples, evidence not growing).
 */
export function samplesNeeded(row: Row, alpha: number): SamplesNeeded | null {
  const reported = row.samples_needed;
  if (reported !== null && reported !== undefined)
    return reported > 0 ? { samples: Math.ceil(reported), extrapolated: false } : null;
  if (row.margin_proven || !(row.margin_evidence > 1) || !(row.canary.count > 0)) return null;
  const target = Math.log(1 / alpha);
  const have = Math.log(row.margin_evidence);
  if (have >= target) return null;
  return { samples: Math.ceil(row.canary.count * (target / have - 1)), extrapolated: true };
}

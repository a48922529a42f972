import type { RowStatus } from "../report.js";

// One status per row, from the tests' outcomes, in this order:
//   regression        the harm test has ever reached its threshold (for good, even without data now)
//   no_data           a cohort has no slices of the series in the current step's window
//   improvement       the mirror test has reached the same threshold: canary better beyond the tolerance
//   insufficient_data below the minimum for the test (expected events, tail samples), or the margin
//                     could not be proven at this sample size even if the canary matched the control
//   no_difference     the margin is proven on the current step
//   inconclusive      enough data if the canary matched the control, but neither test is decided
// The decision reads `margin_proven` for promotion, never the intervals.

export interface StatusInputs {
  regression: boolean;
  /** Why there is no data, or null when both cohorts have slices in the window. */
  noData: string | null;
  improvement: boolean;
  /** The minimum counts for the test are met (null when they are). */
  belowMinimum: string | null;
  marginProven: boolean;
  /** The margin could be proven at this sample size if the canary matched the control. */
  projectedSufficient: boolean;
}

export function rowStatus(i: StatusInputs): RowStatus {
  if (i.regression) return "regression";
  if (i.noData !== null) return "no_data";
  if (i.improvement) return "improvement";
  if (i.belowMinimum !== null) return "insufficient_data";
  if (i.marginProven) return "no_difference";
  if (!i.projectedSufficient) return "insufficient_data";
  return "inconclusive";
}

/** "340x" style numbers for notes. */
export function formatTimes(e: number): string {
  // Past a million only "past a million" matters (a proven margin can reach 1e+299).
  if (e >= 1e6) return ">1,000,000x";
  if (e >= 100) return `${Math.round(e)}x`;
  if (e >= 10) return `${e.toFixed(1)}x`;
  if (e > 0 && e < 0.01) return `${Number(e.toPrecision(1))}x`;
  return `${e.toFixed(2)}x`;
}

export function noDataReason(canarySlices: number, controlSlices: number, what: string): string | null {
  if (canarySlices > 0 && controlSlices > 0) return null;
  if (canarySlices === 0 && controlSlices === 0)
    return `no slices with ${what} from either cohort in the window`;
  return `no slices with ${what} from the ${canarySlices === 0 ? "canary" : "control"} in the window`;
}

export function statusNote(
  status: RowStatus,
  parts: {
    evidence: number;
    threshold: number;
    marginEvidence: number;
    marginThreshold: number;
    noData: string | null;
    belowMinimum: string | null;
  },
): string {
  switch (status) {
    case "regression":
      return `worse than control beyond the tolerance: evidence reached ${formatTimes(parts.evidence)} (needs ${formatTimes(parts.threshold)}); stays a regression for the rest of the deployment`;
    case "no_data":
      return parts.noData ?? "no data in the window";
    case "improvement":
      return "better than control beyond the tolerance";
    case "insufficient_data":
      return (
        parts.belowMinimum ??
        `too little data on this step: even if the canary matched the control, the margin could not be proven yet (margin evidence ${formatTimes(parts.marginEvidence)}, needs ${formatTimes(parts.marginThreshold)})`
      );
    case "no_difference":
      return `within the margin on this step (margin evidence ${formatTimes(parts.marginEvidence)}, needs ${formatTimes(parts.marginThreshold)})`;
    case "inconclusive":
      return `enough data to prove the margin if the canary matched the control, but it does not look as good yet (margin evidence ${formatTimes(parts.marginEvidence)}, needs ${formatTimes(parts.marginThreshold)})`;
  }
}

import type { RowStatus } from "../../report.js";
import { type CountComparison, evidenceValue } from "../count-comparison.js";
import { rowStatus, statusNote } from "../status.js";
import type { RowContext } from "./types.js";

// The judged part of a row backed by count tests (ratio, throughput, percentile rows).

/** Dispersion from which a row says its events come in bursts. */
const NOTED_DISPERSION = 1.5;

/** Minimum expected canary events on the step before a rate is judged. */
export const MIN_EXPECTED_EVENTS = 5;

export interface CountRowJudgment {
  evidence: number;
  improvement_evidence: number;
  margin_evidence: number;
  margin_proven: boolean;
  status: RowStatus;
  samples_needed: number | null;
  note: string;
}

/**
 * Status, evidence and samples needed for a count-backed row. `belowMinimum` is the row kind's own
 * minimum rule (expected events, tail samples), `extraNeeded` the samples that rule still lacks.
 */
export function judgeCounts(
  counts: CountComparison,
  ctx: RowContext,
  noData: string | null,
  belowMinimum: string | null,
  extraNeeded: number,
): CountRowJudgment {
  const current = counts.isCurrent(ctx.ordinal);
  const evidence = evidenceValue(counts.harmLogEvidence());
  const improvementEvidence = evidenceValue(counts.improvementLogEvidence());
  const marginEvidence = current ? evidenceValue(counts.marginLogEvidence()) : 1;
  const projected = current ? evidenceValue(counts.projectedLogEvidence()) : 1;
  const regression = evidence >= ctx.harmThreshold;
  const improvement = improvementEvidence >= ctx.harmThreshold;
  const marginProven = belowMinimum === null && noData === null && marginEvidence >= ctx.marginThreshold;
  const status = rowStatus({
    regression,
    noData,
    improvement,
    belowMinimum,
    marginProven,
    projectedSufficient: projected >= ctx.marginThreshold,
  });
  let samplesNeeded: number | null = null;
  // An improvement proven earlier does not promote by itself: the step still has to prove its
  // margin, so it says how far it is from that too.
  const unproven = status === "insufficient_data" || status === "inconclusive";
  if (unproven || (status === "improvement" && !marginProven)) {
    const byTest = current ? counts.trialsNeeded(ctx.marginThreshold, status !== "insufficient_data") : null;
    samplesNeeded = byTest === null ? (extraNeeded > 0 ? extraNeeded : null) : Math.max(byTest, extraNeeded);
  } else if (status === "no_difference" || status === "improvement") {
    samplesNeeded = 0;
  }
  let note = statusNote(status, {
    evidence,
    threshold: ctx.harmThreshold,
    marginEvidence,
    marginThreshold: ctx.marginThreshold,
    noData,
    belowMinimum,
  });
  const dispersion = counts.dispersion.value();
  if (dispersion >= NOTED_DISPERSION) {
    note += `; events come in bursts (retries?): the canary's share varies ${dispersion.toFixed(1)}x as much as independent events would, so each event weighs 1/${dispersion.toFixed(1)} in the tests`;
  }
  return {
    evidence,
    improvement_evidence: improvementEvidence,
    margin_evidence: marginEvidence,
    margin_proven: marginProven,
    status,
    samples_needed: samplesNeeded,
    note,
  };
}

/** Confidence sequence of the rate ratio on the current step, as relative differences. */
export function ratioInterval(
  counts: CountComparison,
  ctx: RowContext,
): { ci_low: number | null; ci_high: number | null } {
  if (!ctx.intervals || !counts.isCurrent(ctx.ordinal) || counts.stepInterval.slices === 0)
    return { ci_low: null, ci_high: null };
  const cs = counts.interval(ctx.harmThreshold, ctx.marginThreshold);
  return { ci_low: cs.low - 1, ci_high: cs.high === null ? null : cs.high - 1 };
}

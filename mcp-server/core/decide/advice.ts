import type { HoldAdvice } from "../decision.js";
import { formatDuration } from "../duration.js";
import type { Report, Row } from "../report.js";
import { formatCount } from "./format.js";
import { samplesNeeded } from "./samples.js";
import type { StepClock } from "./timing.js";

// What would end a hold, in the two currencies an operator controls: time and traffic share.
// Traffic is estimated from the report itself (both cohorts' counts over the judged window), so
// the advice needs no extra input and replays exactly from a stored report.

/** Percents a ladder usually has; a suggestion rounds up to one of them. */
export const LADDER_FRIENDLY_PERCENTS = [1, 2, 5, 10, 25, 50] as const;

/** A canary above this share is no longer a canary: beyond it the advice is a longer window. */
const MAX_SUGGESTED_PERCENT = 50;

interface RowNeed {
  row: Row;
  needed: number;
  extrapolated: boolean;
  /** Both cohorts' samples per minute of this row's kind (requests, latency samples). */
  perMinute: number | undefined;
  /** The canary share (percent) at which one full window gathers what the step needs. */
  shareNeeded: number | undefined;
}

function observedMinutes(report: Report, at: number): number {
  const from = Date.parse(report.window.from);
  const to = Math.min(Date.parse(report.window.to), at);
  return Number.isFinite(from) && Number.isFinite(to) ? Math.max(0, (to - from) / 60_000) : 0;
}

function rowNeeds(report: Report, clock: StepClock, at: number, alpha: number): RowNeed[] {
  const minutes = observedMinutes(report, at);
  const windowMinutes = clock.windowMs !== undefined ? clock.windowMs / 60_000 : undefined;
  const needs: RowNeed[] = [];
  for (const row of report.rows) {
    if (!row.judged || !row.critical || row.segment || row.margin_proven) continue;
    const need = samplesNeeded(row, alpha);
    if (!need) continue;
    const needed = need.samples;
    const total = row.canary.count + row.control.count;
    const perMinute = minutes > 0 && total > 0 ? total / minutes : undefined;
    // The step must earn promotion on its own data: what it has plus what it lacks, over one window.
    const shareNeeded =
      perMinute !== undefined && windowMinutes !== undefined
        ? (100 * (row.canary.count + needed)) / (perMinute * windowMinutes)
        : undefined;
    needs.push({ row, needed, extrapolated: need.extrapolated, perMinute, shareNeeded });
  }
  return needs;
}

/** The smallest ladder-friendly percent at or above `share`, or null when none up to 50% is. */
export function roundUpToLadderPercent(share: number): number | null {
  for (const p of LADDER_FRIENDLY_PERCENTS) if (p >= share - 1e-9) return p;
  return null;
}

export function holdAdvice(report: Report, clock: StepClock, at: number, alpha: number): HoldAdvice {
  const timeLeft = clock.windowEnd !== undefined ? Math.max(0, clock.windowEnd - at) : null;
  const needs = rowNeeds(report, clock, at, alpha);
  const parts: string[] = [];
  if (timeLeft !== null && timeLeft > 0) parts.push(`the window closes in ${formatDuration(timeLeft)}`);

  if (needs.length === 0) {
    parts.push(
      timeLeft !== null && timeLeft > 0
        ? "no guardrail reports missing samples"
        : "no guardrail reports how many samples it lacks",
    );
    return {
      time_left_ms: timeLeft,
      samples_missing: null,
      suggested_percent: null,
      suggested_window_ms: null,
      message: `${parts.join("; ")}.`,
    };
  }

  // The slowest guardrail decides: the largest share needed (rows without a traffic estimate count
  // by their sample need alone).
  const slowest = [...needs].sort(
    (a, b) =>
      (b.shareNeeded ?? -1) - (a.shareNeeded ?? -1) ||
      b.needed - a.needed ||
      (a.row.metric < b.row.metric ? -1 : a.row.metric > b.row.metric ? 1 : 0) ||
      (a.row.statistic < b.row.statistic ? -1 : a.row.statistic > b.row.statistic ? 1 : 0),
  )[0]!;
  const samplesMissing = Math.max(...needs.map((n) => n.needed));
  const what = `${slowest.row.metric}${slowest.row.statistic === "rate" ? "" : ` ${slowest.row.statistic}`}`;
  parts.push(
    `${what} needs about ${formatCount(slowest.needed)} more canary samples${slowest.extrapolated ? " (extrapolated from its margin evidence)" : ""}`,
  );

  let suggested: number | null = null;
  let suggestedWindow: number | null = null;
  if (slowest.shareNeeded !== undefined && slowest.perMinute !== undefined) {
    suggested = roundUpToLadderPercent(slowest.shareNeeded);
    suggestedWindow = clock.windowMs ?? null;
    const traffic = `${formatCount(slowest.perMinute)}/min observed across both cohorts`;
    if (suggested === null) {
      // No canary percent gathers them within one window: the largest one does, given longer.
      const windowMinutes = (clock.windowMs ?? 0) / 60_000;
      const minutesAt50 =
        (100 * (slowest.row.canary.count + slowest.needed)) / (slowest.perMinute * MAX_SUGGESTED_PERCENT);
      suggested = MAX_SUGGESTED_PERCENT;
      suggestedWindow = Math.ceil(minutesAt50) * 60_000;
      parts.push(
        `at ${traffic}, no canary percent up to ${MAX_SUGGESTED_PERCENT}% gathers them within a ${formatDuration(windowMinutes * 60_000)} window; a window of about ${formatDuration(suggestedWindow)} at ${MAX_SUGGESTED_PERCENT}% would`,
      );
    } else {
      parts.push(
        `at ${traffic}, a canary at ${suggested}% gathers them within one window (needs ${Number(slowest.shareNeeded.toPrecision(2))}%)`,
      );
    }
    const canaryPerMinute = (slowest.perMinute * clock.percent) / 100;
    if (canaryPerMinute > 0) {
      parts.push(
        `at the current ${clock.percent}%, about ${formatDuration(Math.ceil(slowest.needed / canaryPerMinute) * 60_000)} more`,
      );
    }
  } else {
    parts.push("no traffic estimate yet to suggest a percent");
  }
  return {
    time_left_ms: timeLeft,
    samples_missing: samplesMissing,
    suggested_percent: suggested,
    suggested_window_ms: suggestedWindow,
    message: `${parts.join("; ")}.`,
  };
}

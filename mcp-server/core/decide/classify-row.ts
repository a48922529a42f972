import type { ReasonCode } from "../decision.js";
import type { MetricPolicy } from "../policy/schema.js";
import type { Row } from "../report.js";
import {
  formatCount,
  formatEvidence,
  formatInterval,
  formatSegment,
  formatThreshold,
  formatValues,
} from "./format.js";
import { samplesNeeded } from "./samples.js";

// Stage one: each report row on its own. A row can ask for a rollback, hold the step, pass (count
// towards promotion) or be ignored (descriptive rows, segments that are not regressing, non-critical
// metrics that are fine). The combination stage never looks at statistics again, only at findings.

export type RowOutcome = "rollback" | "hold" | "pass" | "ignore";

/** A reason before ordering; `segmentKey` orders segment rows of one metric deterministically. */
export interface Finding {
  code: ReasonCode;
  message: string;
  metric?: string;
  segmentKey: string;
}

export interface RowClassification {
  outcome: RowOutcome;
  findings: Finding[];
}

const IGNORE: RowClassification = { outcome: "ignore", findings: [] };

export function isRateRow(row: Row, metric: MetricPolicy | undefined): boolean {
  return metric ? metric.type === "ratio" : row.statistic === "rate";
}

function rowLabel(row: Row): string {
  return row.segment ? `${row.metric} [${formatSegment(row.segment)}]` : row.metric;
}

function segmentKeyOf(row: Row): string {
  return row.segment ? formatSegment(row.segment) : "";
}

/** "evidence 3.1x, needs 80x" */
function evidenceText(row: Row): string {
  return `evidence ${formatEvidence(row.evidence)}, needs ${formatEvidence(row.threshold)}`;
}

function tail(parts: (string | undefined)[]): string {
  return parts.filter((p): p is string => p !== undefined && p.length > 0).join("; ");
}

/** What more data would settle the row, from the engine's own estimate when it has one. */
function moreDataText(row: Row, isRate: boolean, alpha: number): string {
  const unit = isRate ? "canary requests" : "canary samples";
  const need = samplesNeeded(row, alpha);
  if (need) {
    const how = need.extrapolated ? ", extrapolated from the margin evidence" : "";
    return `ends with about ${formatCount(need.samples)} more ${unit} on this step${how} (more time or a larger percent)`;
  }
  return `ends with more ${unit} on this step (more time or a larger percent)`;
}

export function classifyRow(row: Row, metric: MetricPolicy | undefined, alpha: number): RowClassification {
  if (!row.judged) return IGNORE;
  const isRate = isRateRow(row, metric);
  const label = rowLabel(row);
  const values = formatValues(row, isRate);
  const tolerance = formatThreshold(row.effective_tolerance ?? row.tolerance, row.interval_scale);
  const margin = formatThreshold(row.effective_margin ?? row.margin, row.interval_scale);
  const base = { metric: row.metric, segmentKey: segmentKeyOf(row) };

  if (row.status === "regression") {
    const proven = `${label}: ${values}, ${evidenceText(row)}: worse than control beyond the tolerance ${tolerance}`;
    if (!row.critical) {
      return {
        outcome: "hold",
        findings: [
          {
            ...base,
            code: "noncritical_regression",
            message: tail([
              `${proven} (critical: false, so it holds instead of rolling back)`,
              "a regression stays one for the rest of the deployment: ends only with an approver's override or a rollback",
            ]),
          },
        ],
      };
    }
    const findings: Finding[] = [{ ...base, code: "regression", message: proven }];
    if (row.segment) {
      findings.push({
        ...base,
        code: "segment_regression",
        message: `${row.metric}: the regression is in the segment ${formatSegment(row.segment)}, not necessarily the whole cohort`,
      });
    }
    return { outcome: "rollback", findings };
  }

  // Promotion is judged on the whole cohort; segments only ever add a regression, and non-critical
  // metrics only ever hold on one.
  if (row.segment || !row.critical) return IGNORE;

  const note = row.note;
  switch (row.status) {
    case "no_data":
      return {
        outcome: "hold",
        findings: [
          {
            ...base,
            code: "no_data",
            message: tail([
              `${label}: no data in the window (canary ${formatCount(row.canary.count)}, control ${formatCount(row.control.count)})`,
              note,
              "never a pass: ends when both cohorts report this series (check the metric source or ingestion)",
            ]),
          },
        ],
      };
    case "insufficient_data":
      return {
        outcome: "hold",
        findings: [
          {
            ...base,
            code: "insufficient_data",
            message: tail([
              `${label}: too little data to test (canary ${formatCount(row.canary.count)}, control ${formatCount(row.control.count)})`,
              note,
              moreDataText(row, isRate, alpha),
            ]),
          },
        ],
      };
    default:
      break;
  }
  if (row.margin_proven) return { outcome: "pass", findings: [] };

  const interval = formatInterval(row);
  // The engine's note often states the margin evidence already; say it once.
  const marginEvidence = note?.includes("margin evidence")
    ? ""
    : ` (margin evidence ${formatEvidence(row.margin_evidence)})`;
  if (row.status === "inconclusive") {
    return {
      outcome: "hold",
      findings: [
        {
          ...base,
          code: "inconclusive",
          message: tail([
            `${label}: ${values}, ${evidenceText(row)}`,
            interval,
            `neither a regression beyond ${tolerance} nor non-inferiority within ${margin} is shown yet${marginEvidence}`,
            note,
            moreDataText(row, isRate, alpha),
          ]),
        },
      ],
    };
  }
  return {
    outcome: "hold",
    findings: [
      {
        ...base,
        code: "margin_not_proven",
        message: tail([
          `${label}: ${values}, ${evidenceText(row)}`,
          interval,
          `a harm above the margin ${margin} is not ruled out yet on this step${marginEvidence}`,
          note,
          moreDataText(row, isRate, alpha),
        ]),
      },
    ],
  };
}

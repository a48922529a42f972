import { mermaidSection } from "../charts/mermaid.js";
import { formatRelative, shownValues } from "../decide/format.js";
import { type History, historyUntil } from "../history.js";
import type { Report, Row } from "../report.js";
import { formatTimes } from "./status.js";

// The report for people: the same rows in the same order as the JSON, one table, then the split
// check, the window and the notes. Numbers are rounded for reading; the JSON keeps them exact.

function isRateStatistic(statistic: string): boolean {
  return (
    statistic === "rate" || statistic === "complement_rate" || statistic.startsWith("segment_error_rate_")
  );
}

function significant(v: number, digits = 4): string {
  if (v === 0) return "0";
  const abs = Math.abs(v);
  if (abs >= 1e6 || abs < 1e-4) return v.toExponential(2);
  return String(Number(v.toPrecision(digits)));
}

function percent(v: number, digits = 3): string {
  return `${significant(v * 100, digits)}%`;
}

function signed(text: string, v: number): string {
  return v > 0 ? `+${text}` : text;
}

function count(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString("en-US") : significant(n);
}

function value(row: Row, side: "canary" | "control"): string {
  const c = row[side];
  const shown = shownValues(row)[side];
  if (shown === null) return `n/a (${count(c.count)})`;
  if (isRateStatistic(row.statistic)) {
    // A complement row counts the events themselves (hits), matching the rate shown.
    const events =
      c.events === undefined
        ? undefined
        : row.statistic === "complement_rate"
          ? c.count - c.events
          : c.events;
    return events !== undefined
      ? `${percent(shown)} (${count(events)}/${count(c.count)})`
      : `${percent(shown)} (${count(c.count)})`;
  }
  return `${significant(shown)} (n=${count(c.count)})`;
}

/** Same rounding as the reasons (formatRelative), so a row reads the same in both. */
function difference(row: Row): string {
  if (row.interval_scale === "relative" || isRateStatistic(row.statistic)) {
    const rel = shownValues(row).rel;
    return rel === null || !Number.isFinite(rel) ? "n/a" : formatRelative(rel);
  }
  return row.abs_diff === null ? "n/a" : signed(significant(row.abs_diff), row.abs_diff);
}

function bound(v: number | null, scale: Row["interval_scale"], side: "low" | "high"): string {
  if (v === null) return side === "low" ? "-inf" : "+inf";
  return scale === "relative" ? signed(percent(v), v) : signed(significant(v), v);
}

function interval(row: Row): string {
  if (row.ci_low === null && row.ci_high === null) return "";
  const text = `[${bound(row.ci_low, row.interval_scale, "low")}, ${bound(row.ci_high, row.interval_scale, "high")}]`;
  return row.statistic === "complement_rate" ? `${text} of 1 - rate` : text;
}

function segmentText(row: Row): string {
  if (!row.segment) return "";
  return Object.keys(row.segment)
    .sort()
    .map((k) => `${k}=${row.segment![k]}`)
    .join(", ");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function label(row: Row): string {
  const seg = segmentText(row);
  return `${row.metric} ${row.statistic}${seg ? ` [${seg}]` : ""}`;
}

/** With `history`, the report gains Mermaid charts of evidence and values over time. */
export function reportToMarkdown(report: Report, opts: { history?: History } = {}): string {
  const lines: string[] = [];
  lines.push(`### Canary comparison: ${report.deployment_id}, step ${report.step + 1} (${report.percent}%)`);
  lines.push("");
  lines.push(
    `Window ${report.window.from} to ${report.window.to} (${report.window_elapsed ? "window elapsed" : "window open"}); step started ${report.step_started_at}; state ${report.state}; as of ${report.at}`,
  );
  lines.push("");
  lines.push(
    "| Status | Metric | Statistic | Segment | Canary | Control | Difference | Interval | Evidence | Margin |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|");
  for (const row of report.rows) {
    const status = row.judged ? row.status : `${row.status} (descriptive)`;
    const margin = row.judged
      ? `${formatTimes(row.margin_evidence)}${row.margin_proven ? " (proven)" : ""}`
      : "";
    const evidence = row.judged ? `${formatTimes(row.evidence)} / needs ${formatTimes(row.threshold)}` : "";
    const cells = [
      status,
      row.metric,
      row.statistic === "complement_rate" ? "rate (higher is better)" : row.statistic,
      segmentText(row),
      value(row, "canary"),
      value(row, "control"),
      difference(row),
      interval(row),
      evidence,
      margin,
    ];
    lines.push(`| ${cells.map(cell).join(" | ")} |`);
  }
  if (report.rows.length === 0) lines.push("| (no metrics) | | | | | | | | | |");
  lines.push("");
  const srm = report.srm;
  const expected = srm.expected_share === null ? "n/a" : percent(srm.expected_share);
  const observed = srm.observed_share === null ? "n/a" : percent(srm.observed_share);
  lines.push(
    `Split: expected ${expected}, observed ${observed} (${srm.basis}: ${count(srm.canary)} canary / ${count(srm.control)} control); evidence ${formatTimes(srm.evidence)} / needs ${formatTimes(srm.threshold)}: ${srm.mismatch ? "MISMATCH" : "ok"}`,
  );
  if (report.excluded) lines.push(`Excluded: ${report.excluded.slices} slices; ${report.excluded.note}`);
  const rowNotes = report.rows.filter((r) => r.note && r.status !== "no_difference");
  if (rowNotes.length > 0 || (report.notes?.length ?? 0) > 0) {
    lines.push("");
    lines.push("Notes:");
    for (const n of report.notes ?? []) lines.push(`- ${n}`);
    for (const r of rowNotes) lines.push(`- ${label(r)}: ${r.note}`);
  }
  const charts = opts.history ? mermaidSection(historyUntil(opts.history, report.at)) : "";
  if (charts) lines.push("", charts.trimEnd());
  lines.push("");
  lines.push(
    `inputs sha256 \`${report.inputs_sha256 || "not computed"}\`, policy sha256 \`${report.policy_sha256}\``,
  );
  return `${lines.join("\n")}\n`;
}

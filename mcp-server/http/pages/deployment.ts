import { esc } from "../../core/charts/escape.js";
import { type ChartSeries, renderTimeChart } from "../../core/charts/svg.js";
import { renderTimeline } from "../../core/charts/timeline.js";
import {
  formatCount,
  formatEvidence,
  formatNumber,
  formatRate,
  formatRelative,
  shownValues,
} from "../../core/decide/format.js";
import type { History, HistoryMetric } from "../../core/history.js";
import type { Row } from "../../core/report.js";
import type { AuditEntry } from "../../ledger/audit.js";
import { PAGE_CSS } from "./style.js";

// One deployment for an on-call engineer, readable at a glance: the ladder as a timeline, per
// guardrail canary against control and the evidence against its threshold, the split, the
// exposure, the current report, the hold's way out and the audit trail. Server-rendered, no
// scripts; every string from users is escaped.

const t = (iso: string): number => Date.parse(iso);

function valueFormat(m: HistoryMetric): (v: number) => string {
  return m.rate ? formatRate : formatNumber;
}

/** Where the canary would be at the tolerance or the margin, given the control at that look. */
function limitAt(m: HistoryMetric, control: number, threshold: number): number {
  const sign = m.bad === "increase" ? 1 : -1;
  if (m.statistic === "complement_rate") return 1 - (1 - control) * (1 + threshold);
  return m.interval_scale === "relative" ? control * (1 + sign * threshold) : control + sign * threshold;
}

/**
 * The canary's band: its own interval when the row has one (percentiles), else the difference's
 * interval placed on the control (rates): where the canary's true value lies, given the control.
 */
function canaryBand(m: HistoryMetric, p: HistoryMetric["points"][number]): { lo: number; hi: number } | null {
  if (p.canary_low !== null && p.canary_high !== null) return { lo: p.canary_low, hi: p.canary_high };
  if (p.ci_low === null || p.ci_high === null || p.control === null) return null;
  const c = p.control;
  const at = (d: number): number =>
    m.statistic === "complement_rate"
      ? 1 - (1 - c) * (1 + d)
      : m.interval_scale === "relative"
        ? c * (1 + d)
        : c + d;
  const a = at(p.ci_low);
  const b = at(p.ci_high);
  return { lo: Math.min(a, b), hi: Math.max(a, b) };
}

function valuesChart(h: History, m: HistoryMetric, i: number, from: number, to: number): string {
  const pts = m.points.filter((p) => p.canary !== null && p.control !== null);
  const series: ChartSeries[] = [
    {
      name: "canary",
      cls: "canary",
      points: pts.map((p) => ({ t: t(p.at), v: p.canary! })),
      band: pts.flatMap((p) => {
        const band = canaryBand(m, p);
        return band ? [{ t: t(p.at), ...band }] : [];
      }),
    },
    {
      name: "control",
      cls: "control",
      points: pts.map((p) => ({ t: t(p.at), v: p.control! })),
      band: pts
        .filter((p) => p.control_low !== null && p.control_high !== null)
        .map((p) => ({ t: t(p.at), lo: p.control_low!, hi: p.control_high! })),
    },
  ];
  if (m.tolerance > 0 || m.interval_scale === "absolute")
    series.push({
      name: `tolerance (${m.bad === "increase" ? "rollback above" : "rollback below"})`,
      cls: "tolerance",
      dashed: true,
      points: pts.map((p) => ({ t: t(p.at), v: limitAt(m, p.control!, m.tolerance) })),
    });
  if (m.margin !== m.tolerance)
    series.push({
      name: `margin (promotion needs the canary ${m.bad === "increase" ? "below" : "above"})`,
      cls: "marginline",
      dashed: true,
      points: pts.map((p) => ({ t: t(p.at), v: limitAt(m, p.control!, m.margin) })),
    });
  const fmt = valueFormat(m);
  const last = pts[pts.length - 1];
  const desc = last
    ? `${m.metric} ${m.label}: at the latest decision the canary was ${fmt(last.canary!)} and the control ${fmt(last.control!)}${last.rel_diff !== null && Number.isFinite(last.rel_diff) ? ` (${formatRelative(last.rel_diff)})` : ""}; ${pts.length} decision${pts.length === 1 ? "" : "s"} plotted.`
    : `${m.metric} ${m.label}: no decision had values for both cohorts yet.`;
  return renderTimeChart({
    id: `values-${i}`,
    title: `${m.metric} ${m.label}: canary against control`,
    desc,
    from,
    to,
    scale: "linear",
    format: fmt,
    series,
    marks: h.steps
      .slice(1)
      .map((s) => ({ t: t(s.started_at), label: `step ${s.step + 1} (${s.percent}%) began` })),
  });
}

function evidenceChart(h: History, m: HistoryMetric, i: number, from: number, to: number): string {
  const threshold = m.points[m.points.length - 1]?.threshold ?? 0;
  const last = m.points[m.points.length - 1];
  const desc = last
    ? `${m.metric} ${m.label}: evidence of harm ${formatEvidence(last.evidence)} and margin evidence ${formatEvidence(last.margin_evidence)} at the latest decision; either reaching ${formatEvidence(threshold)} decides (harm: rollback; margin: promotion).`
    : `${m.metric} ${m.label}: no evidence yet.`;
  return renderTimeChart({
    id: `evidence-${i}`,
    title: `${m.metric} ${m.label}: evidence against the threshold (log scale)`,
    desc,
    from,
    to,
    scale: "log",
    // Axis labels name the power of ten past 10,000 (formatEvidence stops at "past a million").
    format: (v) => (v >= 1e4 ? `1e${Math.round(Math.log10(v))}x` : formatEvidence(v)),
    series: [
      {
        name: "evidence of harm (rollback at threshold)",
        cls: "evidence",
        points: m.points.map((p) => ({ t: t(p.at), v: p.evidence })),
      },
      {
        name: "margin evidence (promotion at threshold)",
        cls: "margin",
        points: m.points.map((p) => ({ t: t(p.at), v: p.margin_evidence })),
      },
    ],
    lines: threshold > 0 ? [{ v: threshold, label: "threshold", cls: "threshold" }] : [],
    include: [1],
    marks: h.steps
      .slice(1)
      .map((s) => ({ t: t(s.started_at), label: `step ${s.step + 1} (${s.percent}%) began` })),
  });
}

function splitChart(h: History, from: number, to: number): string {
  const observed = h.split.filter((s) => s.observed_share !== null);
  const expected = h.split.filter((s) => s.expected_share !== null);
  const last = observed[observed.length - 1];
  return renderTimeChart({
    id: "split",
    title: "Traffic split: observed canary share against the expected percent",
    desc: last
      ? `At the latest decision the canary had ${formatRate(last.observed_share!)} of the ${last.basis}, expected ${last.expected_share === null ? "n/a" : formatRate(last.expected_share)}.`
      : "No split measured yet.",
    from,
    to,
    scale: "linear",
    format: formatRate,
    series: [
      {
        name: "observed canary share",
        cls: "canary",
        points: observed.map((s) => ({ t: t(s.at), v: s.observed_share! })),
      },
      {
        name: "expected share",
        cls: "expected",
        dashed: true,
        points: expected.map((s) => ({ t: t(s.at), v: s.expected_share! })),
      },
    ],
    include: [0],
  });
}

const isRate = (row: Row): boolean =>
  row.statistic === "rate" ||
  row.statistic === "complement_rate" ||
  row.statistic.startsWith("segment_error_rate_");

function reportValue(row: Row, side: "canary" | "control"): string {
  const v = shownValues(row)[side];
  if (v === null) return "n/a";
  return isRate(row) ? formatRate(v) : formatNumber(v);
}

function reportTable(h: History): string {
  const r = h.report;
  if (!r) return "<p>No report.</p>";
  const rows = r.rows
    .map((row) => {
      const seg = row.segment
        ? Object.keys(row.segment)
            .sort()
            .map((k) => `${k}=${row.segment![k]}`)
            .join(", ")
        : "";
      const stat = row.statistic === "complement_rate" ? "rate (higher is better)" : row.statistic;
      const rel = shownValues(row).rel;
      const diff =
        rel !== null && Number.isFinite(rel) && (row.interval_scale === "relative" || isRate(row))
          ? formatRelative(rel)
          : row.abs_diff !== null
            ? formatNumber(row.abs_diff)
            : "n/a";
      return `<tr data-status="${esc(row.status)}"><td>${esc(row.judged ? row.status : `${row.status} (descriptive)`)}</td><td>${esc(row.metric)}</td><td>${esc(stat)}</td><td>${esc(seg)}</td><td>${esc(reportValue(row, "canary"))} <small>(${esc(formatCount(row.canary.count))})</small></td><td>${esc(reportValue(row, "control"))} <small>(${esc(formatCount(row.control.count))})</small></td><td>${esc(diff)}</td><td>${row.judged ? `${esc(formatEvidence(row.evidence))} / ${esc(formatEvidence(row.threshold))}` : ""}</td><td>${row.judged ? `${esc(formatEvidence(row.margin_evidence))}${row.margin_proven ? " (proven)" : ""}` : ""}</td></tr>`;
    })
    .join("");
  return `<p class="meta">as of ${esc(r.at)}, step ${esc(r.step + 1)} (${esc(r.percent)}%), window ${esc(r.window.from)} to ${esc(r.window.to)}${r.window_elapsed ? " (elapsed)" : " (open)"}</p>
<div class="scroll"><table class="report"><thead><tr><th>Status</th><th>Metric</th><th>Statistic</th><th>Segment</th><th>Canary</th><th>Control</th><th>Difference</th><th>Evidence / needs</th><th>Margin evidence</th></tr></thead><tbody>${rows || '<tr><td colspan="9">no metrics</td></tr>'}</tbody></table></div>
${r.notes?.length ? `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}`;
}

function exposure(h: History): string {
  const e = h.exposure;
  const items = [
    e.canary_requests === null
      ? ""
      : `<li>canary requests: <b data-field="canary-requests">${esc(formatCount(e.canary_requests))}</b></li>`,
    e.canary_unit_slices === null
      ? ""
      : `<li>canary units (summed over slices): <b>${esc(formatCount(e.canary_unit_slices))}</b></li>`,
    ...e.metrics.map(
      (m) =>
        `<li>${esc(m.metric)}: <b>${esc(formatCount(m.bad))}</b> bad canary requests (${esc(m.bad_label)}) of ${esc(formatCount(m.trials))}</li>`,
    ),
  ].filter(Boolean);
  return items.length ? `<ul>${items.join("")}</ul>` : "<p>No canary traffic recorded yet.</p>";
}

function auditTable(audit: AuditEntry[]): string {
  if (audit.length === 0) return "<p>No audit entries.</p>";
  return `<details><summary>${audit.length} entr${audit.length === 1 ? "y" : "ies"} (newest last)</summary><div class="scroll"><table class="audit"><thead><tr><th>#</th><th>At</th><th>Actor</th><th>Action</th><th>Details</th></tr></thead><tbody>${audit
    .map((a) => {
      const details = JSON.stringify(a.details);
      return `<tr><td>${esc(a.seq)}</td><td>${esc(a.at)}</td><td>${esc(a.actor)}</td><td>${esc(a.action)}</td><td><code>${esc(details.length > 240 ? `${details.slice(0, 240)}...` : details)}</code></td></tr>`;
    })
    .join("")}</tbody></table></div></details>`;
}

export function lookLabels(look: History["look"]): string {
  return `${look.stale ? '<span class="label stale" data-label="stale">stale</span>' : ""}${look.overdue ? '<span class="label overdue" data-label="overdue">look overdue</span>' : ""}`;
}

/** The ladder as chips: done rungs, the current one, and the rung a rollback ended on. */
export function rungChips(
  ladder: readonly { percent: number }[],
  state: History["deployment"]["state"],
  step: number,
): string {
  return ladder
    .map((r, i) => {
      const cls =
        state === "rolled_back"
          ? i === step
            ? "rung bad"
            : i < step
              ? "rung done"
              : "rung"
          : i < step || state === "completed"
            ? "rung done"
            : i === step
              ? "rung now"
              : "rung";
      return `<span class="${cls}">${esc(r.percent)}%</span>`;
    })
    .join("");
}

function ladderChips(h: History): string {
  return rungChips(h.deployment.ladder, h.deployment.state, h.deployment.step);
}

export function renderDeploymentPage(
  h: History,
  audit: AuditEntry[],
  /** `standalone`: a file to attach (no refresh, no links back to a server). */
  opts: { refresh?: boolean; home?: string; standalone?: boolean } = {},
): string {
  const d = h.deployment;
  const from = t(d.started_at);
  const to = Math.max(from + 60_000, t(d.ended_at ?? h.as_of));
  const latest = h.decisions[h.decisions.length - 1];
  const rollback = h.events.find((e) => e.kind === "rollback");
  const metricCharts = h.metrics
    .map(
      (
        m,
        i,
      ) => `<h3>${esc(m.metric)} <small>${esc(m.label)}${m.critical ? "" : " (non-critical)"}</small></h3>
<div class="grid2">${valuesChart(h, m, i, from, to)}${evidenceChart(h, m, i, from, to)}</div>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${opts.refresh ? '<meta http-equiv="refresh" content="30">' : ""}
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${esc(d.deployment_id)} - canary-pilot</title>
<style>${PAGE_CSS}</style></head>
<body>
${opts.home ? `<p class="meta"><a href="${esc(opts.home)}">all deployments</a></p>` : ""}
<h1>${esc(d.deployment_id)} <small>${esc(d.service)}${d.version ? ` ${esc(d.version)}` : ""}</small></h1>
<p class="meta">as of ${esc(h.as_of)} &middot; started ${esc(d.started_at)}${d.author ? ` by ${esc(d.author)}` : ""}${d.ended_at ? ` &middot; ended ${esc(d.ended_at)}` : ""} &middot; policy <code>${esc(d.policy_sha256.slice(0, 12))}</code>${opts.standalone ? "" : ` &middot; <a href="/v1/deployments/${esc(encodeURIComponent(d.deployment_id))}/history">history JSON</a>`}</p>
<section class="card ${d.state === "canary" ? "running" : d.state === "completed" ? "ok" : d.state === "rolled_back" ? "bad" : "paused"}">
<p><b data-field="state">${esc(d.state.replace("_", " "))}</b> at <b data-field="percent">${esc(d.percent)}%</b>, step ${esc(d.step + 1)} of ${esc(d.ladder.length)}</p>
<p class="ladder">${ladderChips(h)}</p>
${
  latest
    ? `<p data-field="latest">latest decision #${esc(latest.decision_id)}: <b class="verdict-${esc(latest.verdict)}">${esc(latest.verdict)}</b> on step ${esc(latest.step + 1)} (${esc(latest.percent)}%) at ${esc(latest.at)}${lookLabels(h.look)}</p>
<p class="meta" data-field="look">${esc(h.look.message)}</p>
<ul>${latest.reasons.map((r, i) => `<li><code>${esc(latest.reason_codes[i])}</code> ${esc(r)}</li>`).join("")}</ul>`
    : `<p>no decision yet${lookLabels(h.look)}</p>`
}
${h.hold ? `<p data-field="hold"><b>What ends the hold:</b> ${esc(h.hold.message)}</p>` : ""}
${rollback ? `<p data-field="rollback"><b>Rolled back</b> by ${esc(rollback.actor)} at ${esc(rollback.at)}${rollback.reason ? `: ${esc(rollback.reason)}` : ""}</p>` : ""}
</section>
<h2>Timeline</h2>
${renderTimeline(h)}
<h2>Guardrails over time</h2>
${metricCharts || "<p>No decisions yet: the charts fill in as decisions are made.</p>"}
<h2>Traffic split and exposure</h2>
<div class="grid2">${splitChart(h, from, to)}<section class="chart" data-field="exposure"><div class="caption">Exposure so far</div>${exposure(h)}</section></div>
<h2>${latest ? `Report of decision #${esc(latest.decision_id)}` : "Current report"} <small>(worst first)</small></h2>
${reportTable(h)}
<h2>Audit trail</h2>
${auditTable(audit)}
</body></html>`;
}

import type { ControllerStats } from "../controller/controller.js";
import { dueAt } from "../controller/due.js";
import { ledgerMetrics } from "../ledger/metrics.js";
import type { Ledger } from "../ledger/open.js";
import { activeSchedule } from "../ledger/schedule.js";
import type { JudgeStateStats } from "../operations/judge-states.js";

// GET /metrics: the controller's own state in the Prometheus text exposition format (names with
// units, counters ending in _total), for the dashboards and alerts a team already has.

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** HTTP request durations, kept in process per route and status class. */
export class RequestDurations {
  private readonly series = new Map<
    string,
    { labels: Record<string, string>; counts: number[]; sum: number; count: number }
  >();

  observe(route: string, method: string, status: number, seconds: number): void {
    const labels = { route, method, code: String(status) };
    const key = `${route}\u0000${method}\u0000${status}`;
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    DURATION_BUCKETS.forEach((b, i) => {
      if (seconds <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += seconds;
    s.count++;
  }

  lines(out: Exposition): void {
    out.family(
      "canary_http_request_duration_seconds",
      "histogram",
      "Time to answer an HTTP request, by route.",
    );
    for (const s of [...this.series.values()].sort((a, b) =>
      JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)),
    )) {
      for (const [i, b] of DURATION_BUCKETS.entries()) {
        out.sample(
          "canary_http_request_duration_seconds_bucket",
          { ...s.labels, le: String(b) },
          s.counts[i] ?? 0,
        );
      }
      out.sample("canary_http_request_duration_seconds_bucket", { ...s.labels, le: "+Inf" }, s.count);
      out.sample("canary_http_request_duration_seconds_sum", s.labels, s.sum);
      out.sample("canary_http_request_duration_seconds_count", s.labels, s.count);
    }
  }
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

/** A writer of the text exposition format. */
export class Exposition {
  private readonly text: string[] = [];

  family(name: string, type: "gauge" | "counter" | "histogram", help: string): void {
    this.text.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Record<string, string>, value: number): void {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(",");
    this.text.push(`${name}${l ? `{${l}}` : ""} ${formatValue(value)}`);
  }

  toString(): string {
    return `${this.text.join("\n")}\n`;
  }
}

const STATES = ["canary", "paused", "completed", "rolled_back"] as const;
const VERDICTS = ["promote", "hold", "rollback"] as const;

export function renderMetrics(
  ledger: Ledger,
  opts: {
    now: number;
    controller?: ControllerStats;
    requests?: RequestDurations;
    judges?: JudgeStateStats;
  },
): string {
  const m = ledgerMetrics(ledger);
  const out = new Exposition();

  out.family("canary_deployments", "gauge", "Deployments in the ledger, by state.");
  for (const state of STATES)
    out.sample(
      "canary_deployments",
      { state },
      m.deploymentsByState.find((s) => s.state === state)?.count ?? 0,
    );

  out.family("canary_deployment_percent", "gauge", "Canary traffic percent of each active deployment.");
  for (const d of m.active)
    out.sample("canary_deployment_percent", { deployment: d.id, service: d.service }, d.percent);
  out.family("canary_deployment_step", "gauge", "Ladder step (0-based) of each active deployment.");
  for (const d of m.active)
    out.sample("canary_deployment_step", { deployment: d.id, service: d.service }, d.step);
  out.family("canary_deployment_paused", "gauge", "1 when an active deployment is paused.");
  for (const d of m.active)
    out.sample(
      "canary_deployment_paused",
      { deployment: d.id, service: d.service },
      d.state === "paused" ? 1 : 0,
    );

  out.family("canary_decisions_total", "counter", "Recorded decisions, by verdict.");
  for (const verdict of VERDICTS)
    out.sample(
      "canary_decisions_total",
      { verdict },
      m.decisionsByVerdict.find((v) => v.verdict === verdict)?.count ?? 0,
    );
  out.family(
    "canary_decision_reasons_total",
    "counter",
    "Reasons given in recorded decisions, by reason code.",
  );
  for (const r of m.decisionReasons) out.sample("canary_decision_reasons_total", { code: r.code }, r.count);
  out.family("canary_rollbacks_total", "counter", "Deployments rolled back.");
  out.sample("canary_rollbacks_total", {}, m.rollbacks);
  out.family("canary_overrides_total", "counter", "Promotions made against the verdict by an approver.");
  out.sample("canary_overrides_total", {}, m.overrides);

  const guardrailGauges = [
    [
      "canary_guardrail_evidence",
      "Evidence (e-value) of harm beyond the tolerance, per guardrail, at the latest decision.",
      "evidence",
    ],
    ["canary_guardrail_evidence_threshold", "The evidence a guardrail must reach to roll back.", "threshold"],
    [
      "canary_guardrail_margin_evidence",
      "Evidence against harm above the margin on the current step (promotion needs the threshold).",
      "margin_evidence",
    ],
  ] as const;
  for (const [name, help, field] of guardrailGauges) {
    out.family(name, "gauge", help);
    for (const e of m.evidence)
      out.sample(name, { deployment: e.id, metric: e.metric, statistic: e.statistic }, e[field]);
  }

  out.family(
    "canary_look_overdue_seconds",
    "gauge",
    "How long a deployment's due look has been waiting (0 when none is due).",
  );
  for (const entry of ledger.read(() => activeSchedule(ledger))) {
    const due = dueAt(entry, opts.now);
    out.sample(
      "canary_look_overdue_seconds",
      { deployment: entry.deployment.id, service: entry.deployment.service },
      Math.max(0, (opts.now - due) / 1000),
    );
  }

  out.family("canary_outbox_pending", "gauge", "Notifications waiting for delivery.");
  out.sample("canary_outbox_pending", {}, m.outbox.pending);
  out.family("canary_outbox_failing", "gauge", "Undelivered notifications whose last attempt failed.");
  out.sample("canary_outbox_failing", {}, m.outbox.failing);
  out.family("canary_outbox_oldest_pending_seconds", "gauge", "Age of the oldest undelivered notification.");
  out.sample(
    "canary_outbox_oldest_pending_seconds",
    {},
    m.outbox.oldestPendingAt === null ? 0 : Math.max(0, (opts.now - m.outbox.oldestPendingAt) / 1000),
  );
  out.family("canary_notifications_delivered_total", "counter", "Notifications delivered.");
  out.sample("canary_notifications_delivered_total", {}, m.outbox.deliveredTotal);

  const c = opts.controller;
  if (c) {
    out.family("canary_controller_leader", "gauge", "1 while this process holds the controller lease.");
    out.sample("canary_controller_leader", {}, c.leader ? 1 : 0);
    out.family("canary_controller_passes_total", "counter", "Controller passes over the active deployments.");
    out.sample("canary_controller_passes_total", {}, c.passes);
    out.family("canary_controller_looks_total", "counter", "Looks (decide, then act) the controller made.");
    out.sample("canary_controller_looks_total", {}, c.looks);
    out.family(
      "canary_controller_errors_total",
      "counter",
      "Looks or passes that failed (a source or ledger error).",
    );
    out.sample("canary_controller_errors_total", {}, c.errors);
    out.family("canary_controller_last_pass_seconds", "gauge", "Duration of the latest controller pass.");
    out.sample("canary_controller_last_pass_seconds", {}, c.lastPassMs / 1000);
  }
  const j = opts.judges;
  if (j) {
    out.family("canary_judges_kept", "gauge", "Deployments whose judge this process keeps between looks.");
    out.sample("canary_judges_kept", {}, j.kept);
    out.family(
      "canary_judge_reports_total",
      "counter",
      "Reports by how the judge was had: kept (only new slices folded) or rebuilt (from every stored slice).",
    );
    out.sample("canary_judge_reports_total", { judge: "kept" }, j.reused);
    out.sample("canary_judge_reports_total", { judge: "rebuilt" }, j.rebuilt);
  }
  opts.requests?.lines(out);
  return out.toString();
}

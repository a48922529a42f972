import { z } from "zod";
import { holdAdviceSchema, type Reason, type Verdict, verdictSchema } from "./decision.js";
import { deploymentIdentitySchema, transitionEventSchema } from "./deployment.js";
import { deploymentIdentity, type TransitionRow, transitionEvent } from "./deployment-view.js";
import { orNull } from "./nullable.js";
import type { Policy } from "./policy/schema.js";
import { type Report, type Row, reportSchema } from "./report.js";

// A deployment's history for pictures: the ladder's steps, every transition, every decision, and
// per guardrail row the values each decision was made on (from the decisions' stored reports, so
// the charts show exactly what was decided). Pure: the operation reads the ledger and passes it in.

const iso = (ms: number): string => new Date(ms).toISOString();

const pointSchema = z.object({
  decision_id: z.number().int(),
  at: z.string(),
  step: z.number().int(),
  canary: orNull(z.number()),
  canary_low: orNull(z.number()),
  canary_high: orNull(z.number()),
  control: orNull(z.number()),
  control_low: orNull(z.number()),
  control_high: orNull(z.number()),
  canary_count: z.number(),
  rel_diff: orNull(z.number()),
  abs_diff: orNull(z.number()),
  ci_low: orNull(z.number()).describe("The difference's anytime-valid interval, in interval_scale units"),
  ci_high: orNull(z.number()),
  evidence: z.number().describe("Harm beyond the tolerance (running maximum): a rollback at `threshold`"),
  margin_evidence: z
    .number()
    .describe("Against 'harm above the margin' on this step: promotion at `threshold`"),
  threshold: z.number(),
  status: z.string(),
});

export const historySchema = z.object({
  deployment: deploymentIdentitySchema.extend({
    started_at: z.string(),
    ended_at: orNull(z.string()),
    policy_sha256: z.string(),
  }),
  as_of: z.string().describe("The time the labels speak for"),
  steps: z.array(
    z.object({
      step: z.number().int(),
      percent: z.number(),
      started_at: z.string(),
      ended_at: orNull(z.string()),
    }),
  ),
  events: z.array(transitionEventSchema),
  decisions: z.array(
    z.object({
      decision_id: z.number().int(),
      at: z.string(),
      step: z.number().int(),
      percent: z.number(),
      verdict: verdictSchema,
      reason_codes: z.array(z.string()),
      reasons: z.array(z.string()),
      next_check_at: z.string(),
      actor: z.string(),
    }),
  ),
  look: z
    .object({
      decision_id: orNull(z.number().int()),
      stale: z.boolean().describe("The latest decision was made on an earlier step than the current one"),
      overdue: z.boolean().describe("Still running and past the latest decision's next check"),
      message: z.string(),
    })
    .describe("Whether the latest decision still speaks for the deployment"),
  metrics: z.array(
    z.object({
      key: z.string(),
      metric: z.string(),
      statistic: z.string(),
      label: z.string().describe("What people call the plotted value (a hit rate, not complement_rate)"),
      rate: z.boolean(),
      bad: z.enum(["increase", "decrease"]),
      critical: z.boolean(),
      interval_scale: z.enum(["relative", "absolute"]),
      tolerance: z.number(),
      margin: z.number(),
      points: z.array(pointSchema),
    }),
  ),
  split: z.array(
    z.object({
      decision_id: z.number().int(),
      at: z.string(),
      expected_share: orNull(z.number()),
      observed_share: orNull(z.number()),
      basis: z.string(),
    }),
  ),
  exposure: z.object({
    metrics: z.array(
      z.object({ metric: z.string(), trials: z.number(), bad: z.number(), bad_label: z.string() }),
    ),
    canary_requests: orNull(z.number()).describe("Largest trial count of the ratio metrics"),
    canary_unit_slices: orNull(z.number()).describe(
      "Units summed over slices (a unit seen in two slices counts twice)",
    ),
  }),
  report: orNull(reportSchema).describe(
    "The report the latest decision was made on (its numbers are the reasons' numbers); before any decision, the judge's report now",
  ),
  hold: orNull(holdAdviceSchema),
});
export type History = z.infer<typeof historySchema>;
export type HistoryMetric = History["metrics"][number];

export interface HistoryDecision {
  id: number;
  step: number;
  percent: number;
  verdict: Verdict;
  reasons: Reason[];
  report: Report;
  advice: z.infer<typeof holdAdviceSchema> | null;
  decided_at: number;
  next_check_at: number;
  actor: string;
}

export interface HistoryInput {
  deployment: {
    id: string;
    service: string;
    version: string | null;
    author: string | null;
    policy: Policy;
    policy_sha256: string;
    state: History["deployment"]["state"];
    step: number;
    percent: number;
    created_at: number;
    ended_at: number | null;
  };
  transitions: TransitionRow[];
  decisions: HistoryDecision[];
  canaryTotals: Map<string, number>;
  unitsSeries: string;
  report: Report | null;
  now: number;
}

const finiteOrNull = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

export function rowKey(row: Pick<Row, "metric" | "statistic">): string {
  return `${row.metric} ${row.statistic}`;
}

/** "hit rate" for a ratio judged on its complement; the statistic otherwise. */
export function statisticLabel(statistic: string, bad: "increase" | "decrease"): string {
  if (statistic === "complement_rate" || (statistic === "rate" && bad === "decrease"))
    return "rate (higher is better)";
  return statistic;
}

/** A complement row's values as the metric's own rate (a cache hit rate of 84%, not 16%). */
function asOwnRate(row: Row, v: number | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  return row.statistic === "complement_rate" ? 1 - v : v;
}

export function lookLabel(
  d: Pick<HistoryInput["deployment"], "state" | "step" | "percent" | "policy">,
  latest: Pick<HistoryDecision, "id" | "step" | "next_check_at" | "verdict"> | undefined,
  now: number,
): History["look"] {
  if (!latest)
    return {
      decision_id: null,
      stale: false,
      overdue: d.state === "canary",
      message: d.state === "canary" ? "no decision yet: a look is due" : "no decision",
    };
  const active = d.state === "canary" || d.state === "paused";
  const stale = active && latest.step !== d.step;
  const overdue = d.state === "canary" && now > latest.next_check_at;
  const parts: string[] = [];
  if (stale)
    parts.push(
      `stale: decided on step ${latest.step + 1} (${d.policy.ladder[latest.step]?.percent ?? "?"}%), the deployment is now on step ${d.step + 1} (${d.percent}%)`,
    );
  if (overdue) parts.push(`a look is overdue: the next check was due ${iso(latest.next_check_at)}`);
  return {
    decision_id: latest.id,
    stale,
    overdue,
    message: parts.length ? parts.join("; ") : active ? "current" : "final decision of an ended deployment",
  };
}

export function buildHistory(input: HistoryInput): History {
  const d = input.deployment;
  const policyMetric = new Map(d.policy.metrics.map((m) => [m.name, m]));
  const starts = input.transitions.filter(
    (t) => t.kind === "start" || t.kind === "promote" || t.kind === "complete",
  );
  const steps = starts.map((t, i) => ({
    step: t.to_step,
    percent: t.percent,
    started_at: iso(t.at),
    ended_at:
      i + 1 < starts.length
        ? iso(starts[i + 1]!.at)
        : d.ended_at !== null && t.kind !== "complete"
          ? iso(d.ended_at)
          : null,
  }));
  const metrics = new Map<string, HistoryMetric>();
  for (const dec of input.decisions) {
    for (const row of dec.report.rows) {
      if (!row.judged || row.segment) continue;
      const bad = policyMetric.get(row.metric)?.bad ?? "increase";
      const key = rowKey(row);
      let m = metrics.get(key);
      if (!m) {
        const rate = row.statistic === "rate" || row.statistic === "complement_rate";
        m = {
          key,
          metric: row.metric,
          statistic: row.statistic,
          label: statisticLabel(row.statistic, bad),
          rate,
          bad: row.statistic === "complement_rate" ? "decrease" : bad,
          critical: row.critical,
          interval_scale: row.interval_scale,
          tolerance: row.effective_tolerance ?? row.tolerance,
          margin: row.effective_margin ?? row.margin,
          points: [],
        };
        metrics.set(key, m);
      }
      const flip = row.statistic === "complement_rate";
      m.points.push({
        decision_id: dec.id,
        at: iso(dec.decided_at),
        step: dec.step,
        canary: asOwnRate(row, row.canary.value),
        canary_low: asOwnRate(row, flip ? row.canary.ci_high : row.canary.ci_low),
        canary_high: asOwnRate(row, flip ? row.canary.ci_low : row.canary.ci_high),
        control: asOwnRate(row, row.control.value),
        control_low: asOwnRate(row, flip ? row.control.ci_high : row.control.ci_low),
        control_high: asOwnRate(row, flip ? row.control.ci_low : row.control.ci_high),
        canary_count: row.canary.count,
        rel_diff: row.rel_diff,
        abs_diff: row.abs_diff,
        ci_low: finiteOrNull(row.ci_low),
        ci_high: finiteOrNull(row.ci_high),
        evidence: row.evidence,
        margin_evidence: row.margin_evidence,
        threshold: row.threshold,
        status: row.status,
      });
    }
  }
  const exposureMetrics: History["exposure"]["metrics"] = [];
  for (const m of d.policy.metrics) {
    if (m.type !== "ratio") continue;
    const trials = input.canaryTotals.get(m.trials) ?? 0;
    const events = input.canaryTotals.get(m.events) ?? 0;
    exposureMetrics.push({
      metric: m.name,
      trials,
      bad: m.bad === "increase" ? events : Math.max(0, trials - events),
      bad_label: m.bad === "increase" ? m.events : `${m.trials} without ${m.events}`,
    });
  }
  const latest = input.decisions[input.decisions.length - 1];
  const units = input.canaryTotals.get(input.unitsSeries);
  return {
    deployment: {
      ...deploymentIdentity(d),
      started_at: iso(d.created_at),
      ended_at: d.ended_at === null ? null : iso(d.ended_at),
      policy_sha256: d.policy_sha256,
    },
    as_of: iso(input.now),
    steps,
    events: input.transitions.map(transitionEvent),
    decisions: input.decisions.map((dec) => ({
      decision_id: dec.id,
      at: iso(dec.decided_at),
      step: dec.step,
      percent: dec.percent,
      verdict: dec.verdict,
      reason_codes: dec.reasons.map((r) => r.code),
      reasons: dec.reasons.map((r) => r.message),
      next_check_at: iso(dec.next_check_at),
      actor: dec.actor,
    })),
    look: lookLabel(d, latest, input.now),
    metrics: [...metrics.values()],
    split: input.decisions.map((dec) => ({
      decision_id: dec.id,
      at: iso(dec.decided_at),
      expected_share: dec.report.srm.expected_share,
      observed_share: dec.report.srm.observed_share,
      basis: dec.report.srm.basis,
    })),
    exposure: {
      metrics: exposureMetrics,
      canary_requests: exposureMetrics.length ? Math.max(...exposureMetrics.map((m) => m.trials)) : null,
      canary_unit_slices: units ?? null,
    },
    report: input.report,
    hold: latest && latest.verdict === "hold" ? latest.advice : null,
  };
}

/** The history as it stood at `at` (a report for a past time charts only the decisions made by then). */
export function historyUntil(h: History, at: string): History {
  const until = Date.parse(at);
  const before = (p: { at: string }): boolean => Date.parse(p.at) <= until;
  return {
    ...h,
    decisions: h.decisions.filter(before),
    metrics: h.metrics.map((m) => ({ ...m, points: m.points.filter(before) })),
    split: h.split.filter(before),
  };
}

import { REASON_CODES, type Reason, type ReasonCode, type VerdictResult } from "../decision.js";
import type { JudgeContext } from "../deployment.js";
import { durationMs, formatDuration } from "../duration.js";
import type { MetricPolicy } from "../policy/schema.js";
import type { Report } from "../report.js";
import { holdAdvice } from "./advice.js";
import { checkCatastrophe } from "./catastrophe.js";
import { classifyRow, type Finding } from "./classify-row.js";
import { formatEvidence } from "./format.js";
import { heldPastWindowMs, nextCheckAt, type StepClock, stepClock } from "./timing.js";

// The decision, in three stages (the shape of Kayenta's judge, with our rules): classify each row
// (classify-row.ts), combine the findings with the deployment-wide checks (split, window, warm-up,
// provider errors, catastrophe limits, max hold), then classify the whole. Pure: same input, same
// verdict and the same reasons in the same order.

export interface ProviderError {
  series: string;
  message: string;
}

export interface DecideInput {
  ctx: JudgeContext;
  report: Report;
  /** Series the metric source failed to deliver for this judgment; never a pass. */
  providerErrors?: ProviderError[];
  /** Consecutive looks with a failed source, this one included (for source.max_errors). */
  sourceErrorLooks?: number;
  /** When the current run of hold verdicts on this step began (ms since epoch), for `max_hold`. */
  holdingSince?: number;
}

/** Worst first: the order reasons are listed in, whatever the verdict. */
const SEVERITY: readonly ReasonCode[] = [
  "catastrophe",
  "regression",
  "segment_regression",
  "srm",
  "max_hold",
  "no_data",
  "provider_error",
  "noncritical_regression",
  "insufficient_data",
  "inconclusive",
  "margin_not_proven",
  "warmup",
  "window_open",
  "paused",
  "final_step",
  "deployment_ended",
  "all_guardrails_proven",
];

function severityOf(code: ReasonCode): number {
  const i = SEVERITY.indexOf(code);
  return i >= 0 ? i : SEVERITY.length + REASON_CODES.indexOf(code);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Deterministic order: severity, then metric name, then segment, then message. Findings with the
 * same code on the same metric (a histogram's percentiles, a metric's segments, several failing
 * series) become one reason, so a code appears once per metric and each reason names its metric.
 */
export function orderFindings(findings: readonly Finding[]): Reason[] {
  const sorted = [...findings].sort(
    (a, b) =>
      severityOf(a.code) - severityOf(b.code) ||
      compareText(a.metric ?? "", b.metric ?? "") ||
      compareText(a.segmentKey, b.segmentKey) ||
      compareText(a.message, b.message),
  );
  const reasons: Reason[] = [];
  for (const f of sorted) {
    const last = reasons[reasons.length - 1];
    if (last && last.code === f.code && last.metric === f.metric) {
      last.message = `${last.message}; ${f.message}`;
      continue;
    }
    reasons.push(
      f.metric === undefined
        ? { code: f.code, message: f.message }
        : { code: f.code, message: f.message, metric: f.metric },
    );
  }
  return reasons;
}

function finding(code: ReasonCode, message: string, metric?: string): Finding {
  return metric === undefined ? { code, message, segmentKey: "" } : { code, message, metric, segmentKey: "" };
}

function percentText(share: number | null): string {
  return share === null ? "n/a" : `${Number((share * 100).toPrecision(3))}%`;
}

interface Assessment {
  rollback: Finding[];
  hold: Finding[];
  /** Critical metrics with a whole-cohort row proven within margin. */
  passed: Set<string>;
  critical: MetricPolicy[];
}

/** Stage two: the rows' findings plus the deployment-wide checks. */
function assess(input: DecideInput, clock: StepClock): Assessment {
  const { ctx, report } = input;
  const { policy } = ctx;
  const metrics = new Map(policy.metrics.map((m) => [m.name, m]));
  const rollback: Finding[] = [];
  const hold: Finding[] = [];
  const passed = new Set<string>();
  const blocked = new Set<string>();

  for (const row of report.rows) {
    const c = classifyRow(row, metrics.get(row.metric), policy.alpha);
    if (c.outcome === "rollback") rollback.push(...c.findings);
    else if (c.outcome === "hold") {
      hold.push(...c.findings);
      blocked.add(row.metric);
    } else if (c.outcome === "pass") passed.add(row.metric);
  }
  for (const m of policy.metrics) {
    const hit = checkCatastrophe(report, m);
    if (hit) rollback.push(hit);
  }

  // A critical metric the report has no judged whole-cohort row for has no data: never a pass.
  const critical = policy.metrics.filter((m) => m.critical);
  for (const m of critical) {
    const hasRow = report.rows.some((r) => r.metric === m.name && r.judged && r.segment === undefined);
    if (!hasRow) {
      hold.push(
        finding("no_data", `${m.name}: the report has no judged row for this metric; never a pass`, m.name),
      );
      blocked.add(m.name);
    }
  }
  for (const name of blocked) passed.delete(name);

  const srm = report.srm;
  if (srm.mismatch) {
    const text = `traffic split off: canary share ${percentText(srm.observed_share)} vs expected ${percentText(srm.expected_share)} on ${srm.basis} (canary ${srm.canary}, control ${srm.control}), evidence ${formatEvidence(srm.evidence)}, needs ${formatEvidence(srm.threshold)}`;
    if (policy.on_srm === "rollback")
      rollback.push(finding("srm", `${text}; the policy rolls back on a split mismatch`));
    else
      hold.push(
        finding(
          "srm",
          `${text}; never promotes while the split is off: check the router's percent and the canary's health (a crashing canary often shows up here first); the policy's on_srm: rollback would roll back instead`,
        ),
      );
  }

  const errors = [...(input.providerErrors ?? [])].sort(
    (a, b) => compareText(a.series, b.series) || compareText(a.message, b.message),
  );
  const maxErrors = policy.source?.max_errors ?? 4;
  const looks = input.sourceErrorLooks ?? 1;
  const limitReached = errors.length > 0 && looks >= maxErrors;
  for (const e of errors) {
    const base = `${e.series}: the metric source failed (${e.message}); never a pass`;
    if (limitReached && policy.on_source_error === "rollback") {
      rollback.push({
        code: "provider_error",
        message: `${base}; ${looks} consecutive failed looks reached source.max_errors ${maxErrors}: the policy's on_source_error rolls back`,
        segmentKey: e.series,
      });
    } else {
      hold.push({
        code: "provider_error",
        message: limitReached
          ? `${base}; ${looks} consecutive failed looks reached source.max_errors ${maxErrors}: the policy keeps holding (on_source_error: hold); fix the source or decide by hand`
          : `${base}: ends when the source answers again`,
        segmentKey: e.series,
      });
    }
  }

  if (report.window_elapsed && policy.on_no_data === "rollback") {
    const noData = hold.filter((f) => f.code === "no_data");
    for (const f of noData) {
      rollback.push({
        ...f,
        message: `${f.message}; the policy rolls back on no data once the window has elapsed`,
      });
    }
  }

  if (ctx.at < clock.warmupEnd) {
    hold.push(
      finding(
        "warmup",
        `the ${clock.percent}% step is warming up: ${formatDuration(clock.warmupEnd - ctx.at)} left, excluded from judgment and the split check`,
      ),
    );
  }
  if (!report.window_elapsed) {
    const left = clock.windowEnd !== undefined ? Math.max(0, clock.windowEnd - ctx.at) : undefined;
    const when =
      left !== undefined && left > 0
        ? `${formatDuration(left)} left (closes ${new Date(clock.windowEnd!).toISOString()})`
        : "closes once the judged window has its full length";
    hold.push(
      finding(
        "window_open",
        `the ${clock.percent}% step's observation window is open: ${when}; promotion is judged when it closes`,
      ),
    );
  }
  return { rollback, hold, passed, critical };
}

function result(
  verdict: VerdictResult["verdict"],
  findings: Finding[],
  next: number,
  advice?: VerdictResult["advice"],
): VerdictResult {
  const out: VerdictResult = { verdict, reasons: orderFindings(findings), next_check_at: next };
  if (advice) out.advice = advice;
  return out;
}

/** Stage three: the whole deployment's verdict. */
export function decideVerdict(input: DecideInput): VerdictResult {
  const { ctx, report } = input;
  const clock = stepClock(ctx, report);
  const next = nextCheckAt(ctx, clock);

  if (ctx.state === "completed" || ctx.state === "rolled_back") {
    const what = ctx.state === "completed" ? "completed" : "rolled back";
    return result(
      "hold",
      [finding("deployment_ended", `the deployment has ${what}: nothing left to decide`)],
      next,
    );
  }
  if (clock.isLastRung) {
    return result(
      "hold",
      [
        finding(
          "final_step",
          `the deployment is at the last rung (${clock.percent}%): nothing left to decide`,
        ),
      ],
      next,
    );
  }

  const a = assess(input, clock);
  // Rollback is the emergency brake: evidence of harm rolls back whatever else holds, paused or not.
  if (a.rollback.length > 0) return result("rollback", a.rollback, next);

  const advice = holdAdvice(report, clock, ctx.at, ctx.policy.alpha);
  if (ctx.state === "paused") {
    const wouldPromote = a.hold.length === 0;
    return result(
      "hold",
      [
        finding(
          "paused",
          wouldPromote
            ? "the deployment is paused: every guardrail is proven, resume it to promote"
            : "the deployment is paused: resume it to let verdicts act again",
        ),
        ...a.hold,
      ],
      next,
      advice,
    );
  }

  if (a.hold.length > 0) {
    const hold = [...a.hold];
    const maxHold = ctx.policy.max_hold;
    if (maxHold && report.window_elapsed) {
      const held = heldPastWindowMs(ctx, clock, input.holdingSince);
      const limit = durationMs(maxHold.after);
      if (held > limit) {
        const text = `the ${clock.percent}% step has held ${formatDuration(held)} past its window, more than max_hold ${maxHold.after}`;
        if (maxHold.action === "rollback") {
          return result("rollback", [finding("max_hold", `${text}: the policy rolls back`), ...a.hold], next);
        }
        hold.push(
          finding("max_hold", `${text}; the policy keeps holding: decide by hand (override or rollback)`),
        );
      }
    }
    return result("hold", hold, next, advice);
  }

  const provenNames = a.critical.map((m) => m.name).sort(compareText);
  const message =
    provenNames.length > 0
      ? `window elapsed, split healthy, every guardrail proven within its margin: ${provenNames.join(", ")}`
      : "window elapsed, split healthy, no regression; the policy names no critical metric to prove";
  return result("promote", [finding("all_guardrails_proven", message)], next);
}

import type { JudgeContext } from "../../../mcp-server/core/deployment.js";
import { type Policy, type PolicyInput, policySchema } from "../../../mcp-server/core/policy/schema.js";
import { type Report, type Row, reportSchema } from "../../../mcp-server/core/report.js";

// Hand-built reports for the decision step: every one passes reportSchema, so the tests pin the
// rules against the same shape the comparison engine produces.

export const T0 = Date.parse("2026-05-26T10:00:00Z");
export const MINUTE = 60_000;

export function makePolicy(overrides: Partial<PolicyInput> = {}): Policy {
  return policySchema.parse({
    service: "checkout",
    check_every: "15m",
    ladder: [
      { percent: 1, window: "60m" },
      { percent: 5, window: "60m" },
      { percent: 25, window: "60m" },
      { percent: 50, window: "60m" },
      { percent: 100 },
    ],
    metrics: [
      {
        name: "checkout_error_rate",
        type: "ratio",
        events: "http_errors",
        trials: "http_requests",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 0.5 },
      },
    ],
    ...overrides,
  });
}

export function makeRow(overrides: Partial<Row> = {}): Row {
  return {
    metric: "checkout_error_rate",
    statistic: "rate",
    canary: { value: 0.005, count: 30_000, events: 150 },
    control: { value: 0.005, count: 2_970_000, events: 14_850 },
    abs_diff: 0,
    rel_diff: 0,
    ci_low: -0.3,
    ci_high: 0.4,
    interval_scale: "relative",
    evidence: 0.2,
    threshold: 20,
    status: "no_difference",
    tolerance: 0,
    margin: 0.5,
    margin_evidence: 40,
    margin_proven: true,
    judged: true,
    critical: true,
    samples_needed: 0,
    ...overrides,
  };
}

export interface ReportOptions {
  step?: number;
  percent?: number;
  /** Minutes since the step started. */
  minutes?: number;
  windowElapsed?: boolean;
  rows?: Row[];
  srm?: Partial<Report["srm"]>;
  /** Start of the judged window, minutes after the step started (the warm-up). */
  fromMinutes?: number;
}

export function makeReport(opts: ReportOptions = {}): Report {
  const minutes = opts.minutes ?? 61;
  const percent = opts.percent ?? 1;
  const at = T0 + minutes * MINUTE;
  return reportSchema.parse({
    deployment_id: "checkout-1",
    step: opts.step ?? 0,
    percent,
    state: "canary",
    at: new Date(at).toISOString(),
    window: {
      from: new Date(T0 + (opts.fromMinutes ?? 0) * MINUTE).toISOString(),
      to: new Date(at).toISOString(),
    },
    step_started_at: new Date(T0).toISOString(),
    window_elapsed: opts.windowElapsed ?? minutes >= 60,
    srm: {
      expected_share: percent / 100,
      observed_share: percent / 100,
      evidence: 1,
      threshold: 20,
      mismatch: false,
      basis: "requests",
      canary: 30_000,
      control: 2_970_000,
      ...opts.srm,
    },
    rows: opts.rows ?? [makeRow()],
    inputs_sha256: "0".repeat(64),
    policy_sha256: "1".repeat(64),
  });
}

export function makeContext(
  policy: Policy,
  opts: { minutes?: number; step?: number; state?: JudgeContext["state"] } = {},
): JudgeContext {
  const step = opts.step ?? 0;
  return {
    deploymentId: "checkout-1",
    policy,
    steps: [{ step, percent: policy.ladder[step]?.percent ?? 1, startedAt: T0 }],
    state: opts.state ?? "canary",
    at: T0 + (opts.minutes ?? 61) * MINUTE,
  };
}

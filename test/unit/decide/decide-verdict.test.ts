import { describe, expect, it } from "vitest";
import { orderFindings } from "../../../mcp-server/core/decide/decide-verdict.js";
import { decideVerdict } from "../../../mcp-server/core/decide/index.js";
import { verdictResultSchema } from "../../../mcp-server/core/decision.js";
import { MINUTE, makeContext, makePolicy, makeReport, makeRow, T0 } from "./fixtures.js";

const codes = (r: { reasons: { code: string }[] }): string[] => r.reasons.map((x) => x.code);

describe("decideVerdict: promote", () => {
  it("promotes once the window has elapsed, the split is healthy and every guardrail is proven", () => {
    const policy = makePolicy();
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport() });
    expect(r.verdict).toBe("promote");
    expect(codes(r)).toEqual(["all_guardrails_proven"]);
    expect(r.reasons[0]?.message).toContain("checkout_error_rate");
    expect(r.advice).toBeUndefined();
    expect(verdictResultSchema.parse(r)).toEqual(r);
  });

  it("does not promote on 'no significant harm yet': an unproven margin holds", () => {
    const policy = makePolicy();
    const row = makeRow({
      status: "no_difference",
      margin_proven: false,
      margin_evidence: 3,
      samples_needed: 12_400,
    });
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport({ rows: [row] }) });
    expect(r.verdict).toBe("hold");
    expect(codes(r)).toEqual(["margin_not_proven"]);
    expect(r.reasons[0]?.message).toContain("canary 0.5% vs control 0.5%");
    expect(r.reasons[0]?.message).toContain("evidence 0.2x, needs 20x");
    expect(r.reasons[0]?.message).toContain("+50%");
    expect(r.reasons[0]?.message).toContain("12,400 more canary requests");
  });

  it("needs every critical metric proven: one unproven guardrail among several holds", () => {
    const policy = makePolicy({
      metrics: [
        ...makePolicy().metrics,
        {
          name: "latency",
          type: "histogram",
          series: "http_latency_ms",
          percentiles: [99],
          bad: "increase",
          tolerance: { absolute: 50 },
        },
      ],
    });
    const rows = [
      makeRow(),
      makeRow({
        metric: "latency",
        statistic: "p99",
        interval_scale: "absolute",
        tolerance: 50,
        margin: 50,
        margin_proven: false,
        status: "inconclusive",
      }),
    ];
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport({ rows }) });
    expect(r.verdict).toBe("hold");
    expect(codes(r)).toEqual(["inconclusive"]);
    expect(r.reasons[0]?.metric).toBe("latency");
  });

  it("a critical metric without any judged whole-cohort row is no data, never a pass", () => {
    const policy = makePolicy({
      metrics: [
        ...makePolicy().metrics,
        {
          name: "latency",
          type: "histogram",
          series: "http_latency_ms",
          percentiles: [99],
          bad: "increase",
          tolerance: { absolute: 50 },
        },
      ],
    });
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport() });
    expect(r.verdict).toBe("hold");
    expect(codes(r)).toEqual(["no_data"]);
    expect(r.reasons[0]?.metric).toBe("latency");
  });

  it("ignores descriptive rows and non-critical metrics that are fine", () => {
    const policy = makePolicy();
    const rows = [
      makeRow(),
      makeRow({
        statistic: "segment_error_rate_p99",
        judged: false,
        status: "insufficient_data",
        margin_proven: false,
      }),
      makeRow({
        metric: "cpu",
        statistic: "mean",
        critical: false,
        margin_proven: false,
        status: "inconclusive",
      }),
    ];
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport({ rows }) });
    expect(r.verdict).toBe("promote");
  });
});

describe("decideVerdict: rollback", () => {
  const regression = makeRow({
    canary: { value: 0.0082, count: 30_000, events: 246 },
    control: { value: 0.0051, count: 2_970_000, events: 15_147 },
    rel_diff: 0.61,
    evidence: 340,
    threshold: 20,
    status: "regression",
    margin_proven: false,
  });

  it("rolls back on a critical regression even before the window elapses", () => {
    const policy = makePolicy();
    const r = decideVerdict({
      ctx: makeContext(policy, { minutes: 7 }),
      report: makeReport({ minutes: 7, rows: [regression] }),
    });
    expect(r.verdict).toBe("rollback");
    expect(codes(r)).toEqual(["regression"]);
    expect(r.reasons[0]?.message).toBe(
      "checkout_error_rate: canary 0.82% vs control 0.51% (+61%), evidence 340x, needs 20x: worse than control beyond the tolerance +0%",
    );
  });

  it("a segment regression rolls back with both codes", () => {
    const policy = makePolicy();
    const seg = { ...regression, segment: { endpoint: "/checkout" } };
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport({ rows: [makeRow(), seg] }) });
    expect(r.verdict).toBe("rollback");
    expect(codes(r)).toEqual(["regression", "segment_regression"]);
    expect(r.reasons[0]?.message).toContain("[endpoint=/checkout]");
  });

  it("a non-critical regression holds and says so, and blocks promotion", () => {
    const policy = makePolicy();
    const nc = { ...regression, metric: "cache_miss_rate", critical: false };
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport({ rows: [makeRow(), nc] }) });
    expect(r.verdict).toBe("hold");
    expect(codes(r)).toEqual(["noncritical_regression"]);
    expect(r.reasons[0]?.message).toContain("critical: false");
  });

  it("rolls back when a catastrophe limit is crossed with its minimum count, not before", () => {
    const policy = makePolicy({
      metrics: [
        {
          name: "checkout_error_rate",
          type: "ratio",
          events: "http_errors",
          trials: "http_requests",
          bad: "increase",
          tolerance: { relative: 0 },
          margin: { relative: 0.5 },
          catastrophe: { limit: 0.2, min_count: 100 },
        },
      ],
    });
    const bad = (count: number) =>
      makeRow({
        canary: { value: 0.3, count, events: 0.3 * count },
        status: "inconclusive",
        margin_proven: false,
      });
    const few = decideVerdict({
      ctx: makeContext(policy, { minutes: 3 }),
      report: makeReport({ minutes: 3, rows: [bad(99)] }),
    });
    expect(few.verdict).toBe("hold");
    const enough = decideVerdict({
      ctx: makeContext(policy, { minutes: 3 }),
      report: makeReport({ minutes: 3, rows: [bad(100)] }),
    });
    expect(enough.verdict).toBe("rollback");
    expect(codes(enough)).toEqual(["catastrophe"]);
    expect(enough.reasons[0]?.message).toContain("30% is above the catastrophe limit 20%");
  });

  it("applies a histogram catastrophe to its percentile and a decrease metric below its limit", () => {
    const policy = makePolicy({
      metrics: [
        {
          name: "latency",
          type: "histogram",
          series: "http_latency_ms",
          percentiles: [50, 99],
          bad: "increase",
          tolerance: { absolute: 50 },
          catastrophe: { limit: 2000, min_count: 50, percentile: 99 },
        },
        {
          name: "success_rate",
          type: "ratio",
          events: "ok",
          trials: "http_requests",
          bad: "decrease",
          tolerance: { relative: 0.01 },
          catastrophe: { limit: 0.9, min_count: 50 },
        },
      ],
    });
    const latency = (stat: string, value: number) =>
      makeRow({
        metric: "latency",
        statistic: stat,
        interval_scale: "absolute",
        canary: { value, count: 500 },
      });
    const okLatency = decideVerdict({
      ctx: makeContext(policy),
      report: makeReport({
        rows: [
          latency("p50", 2500),
          latency("p99", 1500),
          makeRow({ metric: "success_rate", canary: { value: 0.95, count: 500 } }),
        ],
      }),
    });
    expect(okLatency.verdict).toBe("promote");
    const slow = decideVerdict({
      ctx: makeContext(policy),
      report: makeReport({
        rows: [
          latency("p50", 60),
          latency("p99", 2500),
          makeRow({ metric: "success_rate", canary: { value: 0.85, count: 500 } }),
        ],
      }),
    });
    expect(slow.verdict).toBe("rollback");
    expect(codes(slow)).toEqual(["catastrophe", "catastrophe"]);
    expect(slow.reasons.map((x) => x.metric)).toEqual(["latency", "success_rate"]);
    expect(slow.reasons[1]?.message).toContain("85% is below the catastrophe limit 90%");
  });

  it("rolls back on a split mismatch only when the policy says so; otherwise it holds and never promotes", () => {
    const srm = { mismatch: true, observed_share: 0.031, expected_share: 0.05, evidence: 240, threshold: 20 };
    const held = decideVerdict({ ctx: makeContext(makePolicy()), report: makeReport({ srm }) });
    expect(held.verdict).toBe("hold");
    expect(codes(held)).toEqual(["srm"]);
    expect(held.reasons[0]?.message).toContain("canary share 3.1% vs expected 5%");
    const rolled = decideVerdict({
      ctx: makeContext(makePolicy({ on_srm: "rollback" }), { minutes: 10 }),
      report: makeReport({ minutes: 10, srm }),
    });
    expect(rolled.verdict).toBe("rollback");
    expect(codes(rolled)).toEqual(["srm"]);
  });

  it("rolls back on no data only once the window has elapsed and only when the policy says so", () => {
    const noData = makeRow({
      status: "no_data",
      canary: { value: null, count: 0 },
      margin_proven: false,
      rel_diff: null,
      abs_diff: null,
    });
    const policy = makePolicy({ on_no_data: "rollback" });
    const early = decideVerdict({
      ctx: makeContext(policy, { minutes: 30 }),
      report: makeReport({ minutes: 30, rows: [noData] }),
    });
    expect(early.verdict).toBe("hold");
    expect(codes(early)).toEqual(["no_data", "window_open"]);
    const late = decideVerdict({ ctx: makeContext(policy), report: makeReport({ rows: [noData] }) });
    expect(late.verdict).toBe("rollback");
    expect(codes(late)).toEqual(["no_data"]);
    const holdPolicy = decideVerdict({
      ctx: makeContext(makePolicy()),
      report: makeReport({ rows: [noData] }),
    });
    expect(holdPolicy.verdict).toBe("hold");
    expect(holdPolicy.reasons[0]?.message).toContain("never a pass");
  });

  it("rolls back a step that held past its window by more than max_hold", () => {
    const policy = makePolicy({ max_hold: { after: "30m", action: "rollback" } });
    const unproven = makeRow({ margin_proven: false, status: "inconclusive" });
    const within = decideVerdict({
      ctx: makeContext(policy, { minutes: 90 }),
      report: makeReport({ minutes: 90, rows: [unproven] }),
    });
    expect(within.verdict).toBe("hold");
    const past = decideVerdict({
      ctx: makeContext(policy, { minutes: 91 }),
      report: makeReport({ minutes: 91, rows: [unproven] }),
    });
    expect(past.verdict).toBe("rollback");
    expect(codes(past)).toEqual(["max_hold", "inconclusive"]);
    // A step whose promote verdicts were not acted on starts holding later.
    const lateHold = decideVerdict({
      ctx: makeContext(policy, { minutes: 91 }),
      report: makeReport({ minutes: 91, rows: [unproven] }),
      holdingSince: T0 + 80 * MINUTE,
    });
    expect(lateHold.verdict).toBe("hold");
  });

  it("max_hold with action hold keeps holding and says so", () => {
    const policy = makePolicy({ max_hold: { after: "30m", action: "hold" } });
    const r = decideVerdict({
      ctx: makeContext(policy, { minutes: 120 }),
      report: makeReport({ minutes: 120, rows: [makeRow({ margin_proven: false, status: "inconclusive" })] }),
    });
    expect(r.verdict).toBe("hold");
    expect(codes(r)).toEqual(["max_hold", "inconclusive"]);
  });
});

describe("decideVerdict: hold", () => {
  it("holds while the window is open, says how long is left, and looks again when it closes", () => {
    const policy = makePolicy();
    const r = decideVerdict({
      ctx: makeContext(policy, { minutes: 50 }),
      report: makeReport({ minutes: 50 }),
    });
    expect(r.verdict).toBe("hold");
    expect(codes(r)).toEqual(["window_open"]);
    expect(r.reasons[0]?.message).toContain("10m left");
    expect(r.next_check_at).toBe(T0 + 60 * MINUTE);
    expect(r.advice?.time_left_ms).toBe(10 * MINUTE);
  });

  it("next_check_at is at + check_every when nothing closes sooner", () => {
    const policy = makePolicy();
    const r = decideVerdict({
      ctx: makeContext(policy, { minutes: 20 }),
      report: makeReport({ minutes: 20 }),
    });
    expect(r.next_check_at).toBe(T0 + 35 * MINUTE);
    const after = decideVerdict({
      ctx: makeContext(policy, { minutes: 61 }),
      report: makeReport({ minutes: 61 }),
    });
    expect(after.next_check_at).toBe(T0 + 76 * MINUTE);
  });

  it("holds during the warm-up and looks again when it ends", () => {
    const policy = makePolicy({ warmup: "5m" });
    const r = decideVerdict({
      ctx: makeContext(policy, { minutes: 2 }),
      report: makeReport({ minutes: 2, fromMinutes: 5 }),
    });
    expect(codes(r)).toEqual(["warmup", "window_open"]);
    expect(r.reasons[0]?.message).toContain("3m left");
    expect(r.next_check_at).toBe(T0 + 5 * MINUTE);
  });

  it("names insufficient data with its note and what would end it", () => {
    const policy = makePolicy();
    const row = makeRow({
      status: "insufficient_data",
      margin_proven: false,
      samples_needed: 4_000,
      note: "p99.9 needs 25 expected tail samples on this step; 3.6 expected",
    });
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport({ rows: [row] }) });
    expect(codes(r)).toEqual(["insufficient_data"]);
    expect(r.reasons[0]?.message).toContain("3.6 expected");
    expect(r.reasons[0]?.message).toContain("4,000 more canary requests");
  });

  it("holds on provider errors, naming the series", () => {
    const r = decideVerdict({
      ctx: makeContext(makePolicy()),
      report: makeReport(),
      providerErrors: [{ series: "http_requests", message: "connection refused" }],
    });
    expect(r.verdict).toBe("hold");
    expect(codes(r)).toEqual(["provider_error"]);
    expect(r.reasons[0]?.message).toContain("http_requests");
    expect(r.reasons[0]?.message).toContain("connection refused");
  });
});

describe("decideVerdict: nothing to decide", () => {
  it("holds with deployment_ended in a terminal state and final_step at 100%", () => {
    const policy = makePolicy();
    const ended = decideVerdict({
      ctx: makeContext(policy, { state: "completed", step: 4 }),
      report: makeReport({ step: 4, percent: 100 }),
    });
    expect(codes(ended)).toEqual(["deployment_ended"]);
    const rolled = decideVerdict({
      ctx: makeContext(policy, { state: "rolled_back" }),
      report: makeReport(),
    });
    expect(codes(rolled)).toEqual(["deployment_ended"]);
    const last = decideVerdict({
      ctx: makeContext(policy, { step: 4 }),
      report: makeReport({ step: 4, percent: 100 }),
    });
    expect(last.verdict).toBe("hold");
    expect(codes(last)).toEqual(["final_step"]);
  });

  it("a paused deployment holds with paused, but a proven regression still rolls back", () => {
    const policy = makePolicy();
    const paused = decideVerdict({ ctx: makeContext(policy, { state: "paused" }), report: makeReport() });
    expect(paused.verdict).toBe("hold");
    expect(codes(paused)).toEqual(["paused"]);
    expect(paused.reasons[0]?.message).toContain("resume it to promote");
    const regression = makeRow({ status: "regression", evidence: 500, margin_proven: false });
    const brake = decideVerdict({
      ctx: makeContext(policy, { state: "paused" }),
      report: makeReport({ rows: [regression] }),
    });
    expect(brake.verdict).toBe("rollback");
  });
});

describe("decideVerdict: determinism", () => {
  it("orders reasons worst first, then by metric name, whatever the row order", () => {
    const policy = makePolicy({
      metrics: ["b_rate", "a_rate", "c_rate"].map((name) => ({
        name,
        type: "ratio" as const,
        events: "e",
        trials: "t",
        bad: "increase" as const,
        tolerance: { relative: 0 },
        margin: { relative: 0.5 },
      })),
    });
    const rows = [
      makeRow({ metric: "c_rate", status: "inconclusive", margin_proven: false }),
      makeRow({ metric: "b_rate", status: "insufficient_data", margin_proven: false }),
      makeRow({ metric: "a_rate", status: "inconclusive", margin_proven: false }),
    ];
    const ctx = makeContext(policy, { minutes: 30 });
    const one = decideVerdict({ ctx, report: makeReport({ minutes: 30, rows }) });
    const two = decideVerdict({ ctx, report: makeReport({ minutes: 30, rows: [...rows].reverse() }) });
    expect(two).toEqual(one);
    expect(one.reasons.map((r) => `${r.code}:${r.metric ?? ""}`)).toEqual([
      "insufficient_data:b_rate",
      "inconclusive:a_rate",
      "inconclusive:c_rate",
      "window_open:",
    ]);
  });
});

describe("orderFindings: one reason per code and metric", () => {
  it("merges a metric's rows with the same code into one reason that names the metric", () => {
    const reasons = orderFindings([
      { code: "insufficient_data", metric: "latency", segmentKey: "", message: "latency p99: too little" },
      { code: "insufficient_data", metric: "latency", segmentKey: "", message: "latency p50: too little" },
      { code: "insufficient_data", metric: "errors", segmentKey: "", message: "errors: too little" },
      { code: "window_open", segmentKey: "", message: "window open" },
      { code: "margin_not_proven", metric: "latency", segmentKey: "", message: "latency p90: not yet" },
    ]);
    expect(reasons).toEqual([
      { code: "insufficient_data", metric: "errors", message: "errors: too little" },
      {
        code: "insufficient_data",
        metric: "latency",
        message: "latency p50: too little; latency p99: too little",
      },
      { code: "margin_not_proven", metric: "latency", message: "latency p90: not yet" },
      { code: "window_open", message: "window open" },
    ]);
  });
});

describe("decideVerdict, word for word", () => {
  it("lists reasons by severity, whatever order they were found in", () => {
    const order = [
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
    ] as const;
    const found = [...order].reverse().map((code, i) => ({ code, message: `m${i}`, segmentKey: "" }));
    expect(orderFindings(found).map((r) => r.code)).toEqual(order);
    // Within a code: by metric, then message; a reason without a metric carries none.
    const same = orderFindings([
      { code: "inconclusive", metric: "b", message: "b", segmentKey: "" },
      { code: "inconclusive", metric: "a", message: "a", segmentKey: "" },
      { code: "window_open", message: "w", segmentKey: "" },
    ]);
    expect(same).toEqual([
      { code: "inconclusive", metric: "a", message: "a" },
      { code: "inconclusive", metric: "b", message: "b" },
      { code: "window_open", message: "w" },
    ]);
  });

  it("says the deployment ended, or is at its last rung", () => {
    const policy = makePolicy();
    for (const [state, what] of [
      ["completed", "completed"],
      ["rolled_back", "rolled back"],
    ] as const) {
      const r = decideVerdict({ ctx: makeContext(policy, { state }), report: makeReport() });
      expect(r).toMatchObject({ verdict: "hold" });
      expect(r.reasons).toEqual([
        { code: "deployment_ended", message: `the deployment has ${what}: nothing left to decide` },
      ]);
    }
    const last = decideVerdict({
      ctx: makeContext(policy, { step: 4 }),
      report: makeReport({ percent: 100 }),
    });
    expect(last.reasons).toEqual([
      { code: "final_step", message: "the deployment is at the last rung (100%): nothing left to decide" },
    ]);
  });

  it("names every proven guardrail, sorted, when it promotes", () => {
    const second = { ...makePolicy().metrics[0]!, name: "a_error_rate" };
    const policy = makePolicy({ metrics: [...makePolicy().metrics, second] });
    const r = decideVerdict({
      ctx: makeContext(policy),
      report: makeReport({ rows: [makeRow(), makeRow({ metric: "a_error_rate" })] }),
    });
    expect(r.reasons).toEqual([
      {
        code: "all_guardrails_proven",
        message:
          "window elapsed, split healthy, every guardrail proven within its margin: a_error_rate, checkout_error_rate",
      },
    ]);
    expect(r.advice).toBeUndefined();
  });

  it("a critical metric without its row holds even when another passes", () => {
    const second = { ...makePolicy().metrics[0]!, name: "a_error_rate" };
    const policy = makePolicy({ metrics: [...makePolicy().metrics, second] });
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport({ rows: [makeRow()] }) });
    expect(r.verdict).toBe("hold");
    expect(r.reasons).toEqual([
      {
        code: "no_data",
        metric: "a_error_rate",
        message: "a_error_rate: the report has no judged row for this metric; never a pass",
      },
    ]);
    expect(r.advice).toBeDefined();
  });

  it("rolls back on no data once the window has elapsed when the policy says so", () => {
    const policy = makePolicy({ on_no_data: "rollback" });
    const r = decideVerdict({ ctx: makeContext(policy), report: makeReport({ rows: [] }) });
    expect(r.verdict).toBe("rollback");
    expect(r.reasons[0]?.message).toBe(
      "checkout_error_rate: the report has no judged row for this metric; never a pass; the policy rolls back on no data once the window has elapsed",
    );
    const early = decideVerdict({
      ctx: makeContext(policy, { minutes: 30 }),
      report: makeReport({ minutes: 30, rows: [] }),
    });
    expect(early.verdict).toBe("hold");
  });
});
